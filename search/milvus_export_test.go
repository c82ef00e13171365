package search

// DropMilvusCollection lets the external tests (package search_test, which can import
// storetest) clean up their collections.
var DropMilvusCollection = dropMilvusCollection
