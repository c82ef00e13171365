package law

import "os"

// CatalogFor reads the statute corpus that dataFlag (or $LAWBOT_DATA, else DefaultDataDir)
// names, for mapping law names and resolving citations. A corpus that was asked for (dataFlag
// or $LAWBOT_DATA set) must be there; otherwise, without one, the catalog is empty: the parser
// still works and nothing resolves.
func CatalogFor(dataFlag string) (*Catalog, error) {
	dir, err := ResolveDataDir(dataFlag)
	if err != nil {
		if dataFlag != "" || os.Getenv(DataEnv) != "" {
			return nil, err
		}
		return NewCatalog(nil), nil
	}
	return LoadCatalog(dir)
}
