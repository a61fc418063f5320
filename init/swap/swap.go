// Package swap sets up b2c.swap: a swap file of a given size on the cache,
// or a swap device, and the kernel's swappiness. Header writes the swap
// signature that mkswap would, so the image needs no util-linux for it.
package swap

import (
	"encoding/binary"
	"fmt"
)

// Header returns the first page of a swap area of size bytes, in the
// kernel's version-1 format (include/linux/swap.h, union swap_header).
func Header(size int64, pageSize int) ([]byte, error) {
	pages := size / int64(pageSize)
	if pages < 10 {
		return nil, fmt.Errorf("swap area of %d bytes: too small (10 pages at least)", size)
	}
	if pages-1 > 1<<32-1 {
		return nil, fmt.Errorf("swap area of %d bytes: too large", size)
	}
	h := make([]byte, pageSize)
	binary.LittleEndian.PutUint32(h[1024:], 1)               // version
	binary.LittleEndian.PutUint32(h[1028:], uint32(pages-1)) // last_page
	copy(h[1036+16:], "b2c-swap")                            // volume name, after nr_badpages and the uuid
	copy(h[pageSize-10:], "SWAPSPACE2")
	return h, nil
}
