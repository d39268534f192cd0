package cpu

// GEMM: c = alpha·op(a)·op(b) + beta·c, split over the backend's
// goroutines without allocating, in one of two forms, each built on a
// register-tiled micro-kernel of the vector width in use (gemmKernel):
//
//   - the packed form (b not transposed, or a short k): Goto's blocking.
//     A block of op(b) (kc rows × nc columns) is packed into micro-panels
//     of nr columns, a block of alpha·op(a) (mc × kc) into micro-panels
//     of mr rows, and the micro-kernel keeps an mr×nr tile of c in
//     registers while one A and one B micro-panel stream through it. The
//     B micro-panel in use stays in L1 while the A block (in L2) passes
//     over it. With an epilogue (the fused ops) each mc×nc block of the
//     product is finished over all of k in a scratch block and handed to
//     the epilogue instead of to c.
//   - the dot form (b transposed: x·Wᵀ with long rows): a dmr×dnr tile
//     of dot products of rows of op(a) with rows of b, each a vector
//     accumulator along k, reduced at the end of a k-block. Nothing is
//     packed: both operands are read along their rows, the larger one
//     streamed once from memory in the outer loop while the smaller one
//     stays in cache.
//
// Work is split into contiguous ranges of rows or of columns of c,
// whichever keeps every goroutine on its own part of the larger operand.
// Scratch is made when the op is recorded.

// gemmKernel is one vector width's micro-kernels and tile sizes.
type gemmKernel struct {
	name   string
	mr, nr int
	// outer sets (add false) or adds to (add true) the mr×nr tile at c,
	// rows ldc apart, Σ_{l<kc} ap[l·mr+i]·bp[l·ldb+j]: a packed B
	// micro-panel has ldb = nr, rows of an unpacked b ldb = n.
	outer func(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool)
	// dot sets s[i·dnr+j] = Σ_{l<k} a[i·lda+l]·b[j·ldb+l] for i < dmr,
	// j < dnr, with rows past ra of a and past rb of b repeating the
	// last; k is a positive multiple of dk.
	dmr, dnr, dk int
	dot          func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)
	// dotNarrow, where the set has one, is dot for a dmr×dnrNarrow tile
	// (dnrNarrow < dnr), taken when it leaves fewer columns of the last
	// tile idle (the decoder's 20 classes: 4 tiles of 5, not 6, 6, 6, 2).
	dnrNarrow int
	dotNarrow func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)
}

// Blocking of the packed form: the B block (kc × nc) is meant for L2,
// the A block (mc × kc) for L2, a B micro-panel (kc × nr) for L1.
const (
	gemmKC     = 256
	gemmBBlock = 96 << 10 // floats of a packed B block
	gemmABlock = 32 << 10 // floats of a packed A block
	// gemmDotBytes bounds the rows of the cached operand of the dot
	// form per k-block.
	gemmDotBytes = 384 << 10
	// gemmPartFlops is the least work worth a goroutine of its own.
	gemmPartFlops = 1 << 19
)

// gemmForce, set by tests, is the kernel set newGemm uses instead of
// currentGemm's, so every set the CPU runs is tested, not only the widest.
var gemmForce *gemmKernel

// gemmEpilogue receives the finished block of rows [i0, i1) and columns
// [j0, j1) of alpha·op(a)·op(b) in blk, rows ld apart, on goroutine part.
type gemmEpilogue func(part, i0, i1, j0, j1 int, blk []float32, ld int)

// gemmPlan is one recorded product.
type gemmPlan struct {
	m, n, k        int
	a, b, c        []float32
	transA, transB bool
	alpha, beta    float32
	kern           *gemmKernel
	dotForm        bool
	at             []float32 // op(a) row-major, when the dot form has a transposed a
	byRows         bool      // parts own ranges of rows (else of columns)
	unit           int       // rows or columns per unit of work
	units          int
	parts          int
	// packed form
	mc, nc, kc int
	ap, bp     [][]float32 // per part: packed A block, packed B block
	tile       [][]float32 // per part: one mr×nr tile for the edges
	epi        gemmEpilogue
	direct     bool        // the epilogue's tiles may read b unpacked (packedBlocks)
	blk        [][]float32 // per part: the epilogue's block, ld nc
	// dot form
	dnr       int // the tile's columns, kern.dnr or kern.dnrNarrow
	dot       func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)
	kcd       int
	rowsOuter bool       // row groups in the outer loop (a is the streamed operand)
	sums      []dotTiles // per part: the kernel's output, made here so Run does not allocate
}

// newGemm plans c = alpha·op(a)·op(b) + beta·c for op(a) m×k and op(b)
// k×n. With epi set (beta must be 0 and c may be nil) the product goes
// to epi block by block instead.
func (p *Program) newGemm(m, n, k int, a, b, c []float32, transA, transB bool, alpha, beta float32, epi gemmEpilogue) *gemmPlan {
	g := &gemmPlan{m: m, n: n, k: k, a: a, b: b, c: c, transA: transA, transB: transB, alpha: alpha, beta: beta, kern: currentGemm(), epi: epi}
	if gemmForce != nil {
		g.kern = gemmForce
	}
	kr := g.kern
	// The dot form wants rows long enough to fill its vectors; with a
	// short k, or an epilogue, the packed form (transposing b as it
	// packs) wins.
	g.dotForm = transB && epi == nil && k >= 4*kr.dk
	if g.dotForm {
		g.dnr, g.dot = kr.dnr, kr.dot
		if kr.dotNarrow != nil && roundUp(n, kr.dnrNarrow)-n < roundUp(n, kr.dnr)-n {
			g.dnr, g.dot = kr.dnrNarrow, kr.dotNarrow
		}
		if transA {
			g.at = make([]float32, m*k)
		}
		// Stream the larger operand once; keep the smaller in cache.
		g.rowsOuter = m > n
		g.byRows = g.rowsOuter
		// k-blocks that keep the cached operand's rows within L2 (a
		// bound on the outer loop's group for L1 instead was slower on the
		// decoder's x·Wᵀ).
		cached := n
		if !g.rowsOuter {
			cached = m
		}
		blocks := (4*k*cached + gemmDotBytes - 1) / gemmDotBytes
		g.kcd = ((k+blocks-1)/blocks + kr.dk - 1) / kr.dk * kr.dk
		if g.byRows {
			g.unit, g.units = kr.dmr, (m+kr.dmr-1)/kr.dmr
		} else {
			g.unit, g.units = g.dnr, (n+g.dnr-1)/g.dnr
		}
	} else {
		// The same kc with or without an epilogue: the fused ops' gradient
		// is then MatMul's to the bit.
		g.kc = min(k, gemmKC)
		// Split the dimension with more micro-tiles.
		g.byRows = (m+kr.mr-1)/kr.mr >= (n+kr.nr-1)/kr.nr
		g.nc = min(roundUp(n, kr.nr), max(kr.nr, gemmBBlock/g.kc/kr.nr*kr.nr))
		g.mc = min(roundUp(m, kr.mr), max(kr.mr, gemmABlock/g.kc/kr.mr*kr.mr))
		if epi != nil {
			// A block of the product per epilogue call: about 24K floats.
			g.mc = min(g.mc, max(kr.mr, (24<<10)/g.nc/kr.mr*kr.mr))
		}
		// Units are micro-tiles, so that parts split evenly; each part
		// blocks its range by mc and nc.
		g.direct = epi != nil && !transB && g.kc == k
		if g.byRows {
			g.unit, g.units = kr.mr, (m+kr.mr-1)/kr.mr
		} else {
			g.unit, g.units = kr.nr, (n+kr.nr-1)/kr.nr
		}
	}
	other := m
	if g.byRows {
		other = n
	}
	flopsPerUnit := 2 * float64(k) * float64(g.unit) * float64(other)
	g.parts = p.parts(g.units, int(max(1, gemmPartFlops/flopsPerUnit)))
	if g.dotForm {
		g.sums = make([]dotTiles, g.parts)
	} else {
		for range g.parts {
			g.ap = append(g.ap, make([]float32, g.mc*g.kc))
			g.bp = append(g.bp, make([]float32, g.nc*g.kc))
			g.tile = append(g.tile, make([]float32, kr.mr*kr.nr))
			if epi != nil {
				g.blk = append(g.blk, make([]float32, g.mc*g.nc))
			}
		}
	}
	return g
}

func roundUp(x, q int) int { return (x + q - 1) / q * q }

// record adds the product to p.
func (g *gemmPlan) record(p *Program) {
	exec := g.executor(p)
	p.add(func() error {
		exec()
		return nil
	})
}

// executor returns the function that computes the product when the op
// runs, made at record time so that running it allocates nothing.
func (g *gemmPlan) executor(p *Program) func() {
	grain := max(1, (g.units+g.parts-1)/g.parts)
	body, transpose := g.run, g.transposeA
	return func() {
		if g.at != nil {
			p.parallel(g.m, 64, transpose)
		}
		p.parallel(g.units, grain, body)
	}
}

// run computes the units [lo, hi) of the product on goroutine part.
func (g *gemmPlan) run(part, lo, hi int) {
	r0, r1, c0, c1 := 0, g.m, 0, g.n
	if g.byRows {
		r0, r1 = lo*g.unit, min(hi*g.unit, g.m)
	} else {
		c0, c1 = lo*g.unit, min(hi*g.unit, g.n)
	}
	if g.c != nil && g.beta != 0 && g.beta != 1 {
		for i := r0; i < r1; i++ {
			row := g.c[i*g.n+c0 : i*g.n+c1]
			for j := range row {
				row[j] *= g.beta
			}
		}
	}
	if g.dotForm {
		g.dots(&g.sums[part], r0, r1, c0, c1)
	} else {
		g.packed(part, r0, r1, c0, c1)
	}
}

// transposeA copies aᵀ (a is k×m) into g.at (m×k), rows split over units.
func (g *gemmPlan) transposeA(_, lo, hi int) {
	for i := lo; i < hi; i++ {
		row := g.at[i*g.k : (i+1)*g.k]
		for l := range row {
			row[l] = g.a[l*g.m+i]
		}
	}
}

// packed is the packed form over rows [r0, r1) and columns [c0, c1).
func (g *gemmPlan) packed(part, r0, r1, c0, c1 int) {
	if g.epi != nil {
		g.packedBlocks(part, r0, r1, c0, c1)
		return
	}
	if r1-r0 <= g.mc && c1-c0 > g.nc && g.k > g.kc {
		// Every row in one A block, several column blocks and k-blocks
		// (the encoder's input gradient): k-blocks outermost, so that
		// each A block is packed once rather than once per column block.
		// Each element of c still sums its k-blocks in order.
		for l0 := 0; l0 < g.k; l0 += g.kc {
			l1 := min(l0+g.kc, g.k)
			g.packA(g.ap[part], r0, r1, l0, l1)
			for j0 := c0; j0 < c1; j0 += g.nc {
				j1 := min(j0+g.nc, c1)
				g.packB(g.bp[part], l0, l1, j0, j1)
				g.blockTiles(part, r0, r1, j0, j1, l0, l1)
			}
		}
		return
	}
	for j0 := c0; j0 < c1; j0 += g.nc {
		j1 := min(j0+g.nc, c1)
		for l0 := 0; l0 < g.k; l0 += g.kc {
			l1 := min(l0+g.kc, g.k)
			g.packB(g.bp[part], l0, l1, j0, j1)
			for i0 := r0; i0 < r1; i0 += g.mc {
				i1 := min(i0+g.mc, r1)
				g.packA(g.ap[part], i0, i1, l0, l1)
				g.blockTiles(part, i0, i1, j0, j1, l0, l1)
			}
		}
	}
}

// blockTiles runs the micro-kernel over the packed A block (rows [i0,
// i1)) and B block (columns [j0, j1)) of k-block [l0, l1).
func (g *gemmPlan) blockTiles(part, i0, i1, j0, j1, l0, l1 int) {
	kr := g.kern
	mr, nr := kr.mr, kr.nr
	ap, bp, tile := g.ap[part], g.bp[part], g.tile[part]
	kb := l1 - l0
	first := l0 == 0 && g.beta == 0
	for jr := j0; jr < j1; jr += nr {
		bq := bp[(jr-j0)*kb : (jr-j0+nr)*kb]
		for ir := i0; ir < i1; ir += mr {
			aq := ap[(ir-i0)*kb : (ir-i0+mr)*kb]
			switch {
			case ir+mr <= i1 && jr+nr <= j1:
				kr.outer(g.c[ir*g.n+jr:], g.n, aq, bq, nr, kb, !first)
			default:
				kr.outer(tile, nr, aq, bq, nr, kb, false)
				for q := 0; q < min(mr, i1-ir); q++ {
					ci := g.c[(ir+q)*g.n+jr : (ir+q)*g.n+min(jr+nr, j1)]
					t := tile[q*nr : q*nr+len(ci)]
					if first {
						copy(ci, t)
						continue
					}
					for j, v := range t {
						ci[j] += v
					}
				}
			}
		}
	}
}

// packedBlocks is the packed form with an epilogue: each mc×nc block is
// finished over all of k in the goroutine's scratch block, then handed
// over. A single k-block packs B once per column block; a longer k packs
// it again for every row block.
func (g *gemmPlan) packedBlocks(part, r0, r1, c0, c1 int) {
	kr := g.kern
	mr, nr := kr.mr, kr.nr
	ap, bp, blk := g.ap[part], g.bp[part], g.blk[part]
	// With every row in one block and one k-block, each B micro-panel
	// serves only that block's few A panels: the tiles then read b's
	// rows where they are instead of a packed copy (the copy was a
	// quarter of the decoder's weight update), all but a ragged last
	// panel, which is packed with its zeros.
	direct := g.direct && r1-r0 <= g.mc
	for j0 := c0; j0 < c1; j0 += g.nc {
		j1 := min(j0+g.nc, c1)
		for i0 := r0; i0 < r1; i0 += g.mc {
			i1 := min(i0+g.mc, r1)
			for l0 := 0; l0 < g.k; l0 += g.kc {
				l1 := min(l0+g.kc, g.k)
				kb := l1 - l0
				if !direct && (l0 > 0 || i0 == r0 || g.kc < g.k) {
					g.packB(bp, l0, l1, j0, j1)
				}
				g.packA(ap, i0, i1, l0, l1)
				for jr := j0; jr < j1; jr += nr {
					bq, ldb := bp[(jr-j0)*kb:(jr-j0+nr)*kb], nr
					if direct {
						if jr+nr <= j1 {
							bq, ldb = g.b[l0*g.n+jr:], g.n
						} else {
							g.packB(bp, l0, l1, jr, j1)
							bq = bp[:nr*kb]
						}
					}
					for ir := i0; ir < i1; ir += mr {
						kr.outer(blk[(ir-i0)*g.nc+jr-j0:], g.nc, ap[(ir-i0)*kb:(ir-i0+mr)*kb], bq, ldb, kb, l0 > 0)
					}
				}
			}
			g.epi(part, i0, i1, j0, j1, blk, g.nc)
		}
	}
}

// packA copies alpha·op(a), rows [i0, i1) and columns [l0, l1), into ap
// as micro-panels of mr rows, [panel][l][mr], rows past i1 zero.
func (g *gemmPlan) packA(ap []float32, i0, i1, l0, l1 int) {
	mr, kb, al := g.kern.mr, l1-l0, g.alpha
	for ir := i0; ir < i1; ir += mr {
		pn := ap[(ir-i0)*kb : (ir-i0+mr)*kb]
		rows := min(mr, i1-ir)
		if g.transA {
			// op(a)[i, l] = a[l, i]: each l gives mr contiguous values.
			for l := l0; l < l1; l++ {
				dst := pn[(l-l0)*mr : (l-l0+1)*mr]
				src := g.a[l*g.m+ir : l*g.m+ir+rows]
				for q, v := range src {
					dst[q] = al * v
				}
				clear(dst[rows:])
			}
			continue
		}
		for q := 0; q < mr; q++ {
			if q >= rows {
				for l := 0; l < kb; l++ {
					pn[l*mr+q] = 0
				}
				continue
			}
			src := g.a[(ir+q)*g.k+l0 : (ir+q)*g.k+l1]
			for l, v := range src {
				pn[l*mr+q] = al * v
			}
		}
	}
}

// packB copies op(b), rows [l0, l1) and columns [j0, j1), into bp as
// micro-panels of nr columns, [panel][l][nr], columns past j1 zero.
func (g *gemmPlan) packB(bp []float32, l0, l1, j0, j1 int) {
	nr, kb := g.kern.nr, l1-l0
	for jr := j0; jr < j1; jr += nr {
		pn := bp[(jr-j0)*kb : (jr-j0+nr)*kb]
		cols := min(nr, j1-jr)
		if g.transB {
			// op(b)[l, j] = b[j, l]: each row of b fills one column.
			for jj := 0; jj < nr; jj++ {
				if jj >= cols {
					for l := 0; l < kb; l++ {
						pn[l*nr+jj] = 0
					}
					continue
				}
				for l, v := range g.b[(jr+jj)*g.k+l0 : (jr+jj)*g.k+l1] {
					pn[l*nr+jj] = v
				}
			}
			continue
		}
		if cols == nr {
			// One copy call per panel row was a large share of the
			// decoder's weight update (bench/RESULTS.md): copyRows moves
			// the whole panel.
			copyRows(pn, nr, g.b[l0*g.n+jr:], g.n, kb, nr)
			continue
		}
		for l := l0; l < l1; l++ {
			dst := pn[(l-l0)*nr : (l-l0+1)*nr]
			copy(dst, g.b[l*g.n+jr:l*g.n+jr+cols])
			clear(dst[cols:])
		}
	}
}

// aRow is row i of op(a), columns [l0, l1), when op(a) is row-major (a,
// or its transposed copy).
func (g *gemmPlan) aRow(i, l0, l1 int) []float32 {
	if g.at != nil {
		return g.at[i*g.k+l0 : i*g.k+l1]
	}
	return g.a[i*g.k+l0 : i*g.k+l1]
}

// dots is the dot form over rows [r0, r1) and columns [c0, c1).
func (g *gemmPlan) dots(t *dotTiles, r0, r1, c0, c1 int) {
	kr := g.kern
	for l0 := 0; l0 < g.k; l0 += g.kcd {
		l1 := min(l0+g.kcd, g.k)
		if g.rowsOuter {
			for i := r0; i < r1; i += kr.dmr {
				for j := c0; j < c1; j += g.dnr {
					g.dotTile(t, i, j, r1, c1, l0, l1)
				}
			}
		} else {
			for j := c0; j < c1; j += g.dnr {
				for i := r0; i < r1; i += kr.dmr {
					g.dotTile(t, i, j, r1, c1, l0, l1)
				}
			}
		}
	}
}

// dotTiles is the dot form's per-goroutine state.
type dotTiles struct{ s [24]float32 }

// dotTile adds the dot products of rows [i, i+dmr) of op(a) with rows
// [j, j+dnr) of b over columns [l0, l1) into c, clipped to r1 and c1.
func (g *gemmPlan) dotTile(t *dotTiles, i, j, r1, c1, l0, l1 int) {
	kr := g.kern
	ra, rb := min(kr.dmr, r1-i), min(g.dnr, c1-j)
	a := g.a
	if g.at != nil {
		a = g.at
	}
	a, b := a[i*g.k+l0:], g.b[j*g.k+l0:]
	kb := l1 - l0
	kv := kb / kr.dk * kr.dk
	if kv > 0 {
		g.dot(&t.s, a, g.k, ra, b, g.k, rb, kv)
	} else {
		clear(t.s[:])
	}
	first := l0 == 0 && g.beta == 0
	for qi := range ra {
		ci := g.c[(i+qi)*g.n+j : (i+qi)*g.n+j+rb]
		s := t.s[qi*g.dnr : qi*g.dnr+rb]
		if kv < kb {
			for qj := range s {
				s[qj] += dotGeneric(a[qi*g.k+kv:qi*g.k+kb], b[qj*g.k+kv:])
			}
		}
		if first {
			for qj, v := range s {
				ci[qj] = g.alpha * v
			}
			continue
		}
		for qj, v := range s {
			ci[qj] += g.alpha * v
		}
	}
}

// The plain-loop micro-kernels: the spec of the vector ones, and the
// kernels of the builds without them.

// copyRowsGeneric is copyRows with copy.
func copyRowsGeneric(dst []float32, ldd int, src []float32, lds, rows, width int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*ldd:r*ldd+width], src[r*lds:r*lds+width])
	}
}

// outerGeneric is gemmKernel.outer for an mr×nr tile.
func outerGeneric(mr, nr int, c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool) {
	for i := 0; i < mr; i++ {
		ci := c[i*ldc : i*ldc+nr]
		for j := range ci {
			var s float32
			for l := 0; l < kc; l++ {
				s += ap[l*mr+i] * bp[l*ldb+j]
			}
			if add {
				ci[j] += s
			} else {
				ci[j] = s
			}
		}
	}
}

// dotTileGeneric is gemmKernel.dot for a dmr×dnr tile.
func dotTileGeneric(dmr, dnr int, s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
	for i := 0; i < dmr; i++ {
		ai := a[min(i, ra-1)*lda:][:k]
		for j := 0; j < dnr; j++ {
			s[i*dnr+j] = dotGeneric(ai, b[min(j, rb-1)*ldb:][:k])
		}
	}
}

// genericGemm is the plain-loop kernel set: 4×8 outer tiles, 4×4 dots.
var genericGemm = &gemmKernel{
	name: "generic", mr: 4, nr: 8, dmr: 4, dnr: 4, dk: 1,
	outer: func(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool) {
		outerGeneric(4, 8, c, ldc, ap, bp, ldb, kc, add)
	},
	dot: func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
		dotTileGeneric(4, 4, s, a, lda, ra, b, ldb, rb, k)
	},
}
