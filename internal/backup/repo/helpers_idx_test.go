package repo

// testLoc is where an index lists chunk id (zero when none does); like testLocOK, for a caller
// that holds r.mu or uses r alone.
func (r *Repo) testLoc(id ID) blobLoc {
	loc, _ := r.testLocOK(id)
	return loc
}

func (r *Repo) testLocOK(id ID) (blobLoc, bool) {
	return r.indexedLocked(id)
}

// allLocs is every indexed chunk with its place.
func (r *Repo) allLocs() map[ID]blobLoc {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[ID]blobLoc, len(r.idx)+len(r.added))
	for id, loc := range r.idx {
		out[id] = loc
	}
	for id, loc := range r.added {
		out[id] = loc
	}
	return out
}
