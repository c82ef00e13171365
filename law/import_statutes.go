package law

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultStatuteKinds are the law files a legalize-kr tree gives the statute corpus unless told
// otherwise: the acts (법률, 헌법), their enforcement decrees and rules (시행령, 시행규칙), and the
// Supreme Court's rules (대법원규칙: procedure, registration). Left out by default: the other
// 대통령령, 총리령, 부령 and the rules of the other constitutional bodies, which people rarely
// need and which would crowd the ranking.
var DefaultStatuteKinds = []string{"법률", "헌법", "시행령", "시행규칙", "대법원규칙"}

// LawFileKind is the kind of a legalize-kr law file named name ("법률" for 법률.md and
// 법률(법률).md, "시행령", …); "" when the name is not a law file's.
func LawFileKind(name string) string {
	m := lawFileRe.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return ""
	}
	return m[2]
}

// IsTarball reports whether path names a gzip tar (.tar.gz or .tgz).
func IsTarball(path string) bool {
	return strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz")
}

// ImportStatutes reads the law files of the given kinds (nil: DefaultStatuteKinds) from a
// legalize-kr tarball, an unpacked tree or a clone, one law per title as ImportMarkdown keeps
// them. The tarball is streamed: only one file is in memory at a time besides the articles.
// Unusable files go to onBad (nil: the first one fails the import).
func ImportStatutes(path string, kinds []string, onBad func(*ImportError)) (*ImportResult, error) {
	if kinds == nil {
		kinds = DefaultStatuteKinds
	}
	res := &ImportResult{}
	laws := newLawCollector("")
	take := func(rel string, read func() ([]byte, error)) error {
		if classify(rel) != mdLaw || !slices.Contains(kinds, LawFileKind(rel)) {
			return nil
		}
		src, err := read()
		if err == nil {
			err = laws.add(rel, src)
		}
		if err != nil {
			res.Bad++
			ie := &ImportError{Path: rel, Reason: err.Error()}
			if onBad == nil {
				return ie
			}
			onBad(ie)
		}
		return nil
	}
	var err error
	if IsTarball(path) {
		err = eachTarFile(path, take)
	} else {
		var files []string
		if files, _, err = markdownFiles(path); err == nil {
			for _, rel := range files {
				if err = take(rel, func() ([]byte, error) { return os.ReadFile(filepath.Join(path, rel)) }); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		var ie *ImportError
		if errors.As(err, &ie) {
			return res, err
		}
		return nil, fmt.Errorf("statutes %s: %w", path, err)
	}
	laws.finish(res, NewCatalog(nil))
	if len(res.Statutes) == 0 {
		return nil, fmt.Errorf("statutes %s: no law file of the kinds %v", path, kinds)
	}
	return res, nil
}

// maxLawFile bounds one file read from a tarball: the largest law is a few MB.
const maxLawFile = 64 << 20

// eachTarFile calls fn for every regular file of a gzip tar, in the archive's order.
func eachTarFile(path string, fn func(rel string, read func() ([]byte, error)) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		read := func() ([]byte, error) {
			if h.Size > maxLawFile {
				return nil, fmt.Errorf("%d bytes, more than a law file holds", h.Size)
			}
			return io.ReadAll(io.LimitReader(tr, maxLawFile))
		}
		if err := fn(filepath.ToSlash(h.Name), read); err != nil {
			return err
		}
	}
}
