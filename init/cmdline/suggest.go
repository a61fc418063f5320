package cmdline

// nearest returns the keyword that word looks like a typo of: one edit
// away (a letter added, dropped, changed, or two neighbours swapped, as
// `atuo` for auto), two for keywords longer than 5 letters. It returns ""
// for word itself and for words nothing is near, so that a host or a
// name that merely resembles a keyword is left alone.
func nearest(word string, keywords []string) string {
	best, bestD := "", 3
	for _, k := range keywords {
		limit := 1
		if len(k) > 5 {
			limit = 2
		}
		if d := editDistance(word, k); d > 0 && d <= limit && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// didYouMean is " (did you mean K?)" for the keyword word is near, or "".
func didYouMean(word string, keywords []string) string {
	if k := nearest(word, keywords); k != "" {
		return " (did you mean " + k + "?)"
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each count 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
