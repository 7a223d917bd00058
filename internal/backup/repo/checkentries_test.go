package repo

import "testing"

// TestCheckEntries: a pack's chunk list is accepted in any order when its frames neither
// overlap nor run past the blob area, chunks of one frame sharing it; the list is not reordered.
func TestCheckEntries(t *testing.T) {
	e := func(off, length uint32) packEntry { return packEntry{off: off, length: length} }
	ok := [][]packEntry{
		{e(0, 10), e(10, 5), e(15, 5)},
		{e(15, 5), e(0, 10), e(10, 5)},           // written out of order
		{e(0, 10), e(0, 10), e(0, 10), e(10, 1)}, // three chunks of one frame
		{},
	}
	for i, l := range ok {
		before := append([]packEntry(nil), l...)
		if err := checkEntries(l, 20); err != nil {
			t.Errorf("list %d refused: %v", i, err)
		}
		for k := range l {
			if l[k] != before[k] {
				t.Fatalf("list %d reordered", i)
			}
		}
	}
	bad := map[string][]packEntry{
		"overlap":                   {e(0, 10), e(9, 5)},
		"overlap unsorted":          {e(9, 5), e(0, 10)},
		"past the end":              {e(0, 10), e(10, 11)},
		"same offset, other length": {e(0, 10), e(0, 12)},
	}
	for name, l := range bad {
		if err := checkEntries(l, 20); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
