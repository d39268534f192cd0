package cpu

// GEMM for the skinny shapes of the tutorials' linear layers
// (1000×288·288×10, 252×23589·23589×20, 60×1152·1152×23589 and their
// transposes), split over the backend's goroutines without allocating.
//
// c = alpha·op(a)·op(b) + beta·c is computed in one of three forms:
//
//   - register tiles (AVX2+FMA build, at least 32 rows of c per
//     goroutine): 4×16 tiles of c accumulate in registers while packed
//     panels of op(a) and op(b) stream through (tiledRowUpdates);
//   - row updates, when b is not transposed: row i of c gets
//     Σ_l alpha·op(a)[i,l]·b[l,:], four rows of b at a time (axpy4), with
//     the l loop blocked so that the rows of b in use stay in cache;
//   - dot products, when b is transposed (x·Wᵀ): c[i,j] is the dot of row
//     i of op(a) with row j of b, four rows of a at a time (dot4), blocked
//     over l; a transposed a is first copied into scratch made at record
//     time.
//
// Work is split by rows of c when there are enough of them, else by
// blocks of columns. Scratch is made when the op is recorded.

// gemmPlan is one recorded MatMul.
type gemmPlan struct {
	m, n, k     int
	a, b, c     []float32
	transA      bool
	transB      bool
	alpha, beta float32
	at          []float32 // op(a) copied row-major when transA and transB
	bpack       []float32 // per goroutine, a packed block of b (tiled path)
	byCols      bool      // split work by column blocks of c
	colBlock    int       // columns per unit when byCols
	units       int       // number of work units
	rowsPerUnit int       // rows per unit when !byCols
	blockL      int       // l-block of the row-update form
	blockLDot   int       // l-block of the dot form
}

func (p *Program) newGemm(m, n, k int, a, b, c []float32, transA, transB bool, alpha, beta float32) *gemmPlan {
	g := &gemmPlan{m: m, n: n, k: k, a: a, b: b, c: c, transA: transA, transB: transB, alpha: alpha, beta: beta}
	if transA && transB {
		g.at = make([]float32, m*k)
	}
	threads := p.b.threads
	// Split by rows unless there are too few of them, or c is so much
	// wider than tall that splitting rows would make every goroutine pack
	// all of b. The row-update form packs nothing below 32 rows, and
	// there rows win even for a wide c: the SGD pass that follows a
	// weight gradient splits the same flat rows between goroutines, and
	// finds them in its own core's cache (decode's 20×23,589 dW: step
	// 9.0–9.3 → 8.7–9.2 ms over three alternating runs of each build).
	fewRowUpdates := !transB && m < 32
	if (m >= 4*threads || n < 128) && (!(n >= 16*m && n >= 128) || fewRowUpdates) {
		g.rowsPerUnit = 4
		g.units = (m + 3) / 4
	} else {
		g.byCols = true
		cb := (n + 4*threads - 1) / (4 * threads)
		cb = min(max((cb+63)/64*64, 64), 1024)
		g.colBlock = cb
		g.units = (n + cb - 1) / cb
	}
	// Keep about 128 KB of b's rows in use per l-block (row-update form).
	width := n
	if g.byCols {
		width = g.colBlock
	}
	g.blockL = max(4, (32768/max(width, 1))/4*4)
	g.blockLDot = 2048
	if gemmKernels {
		g.bpack = make([]float32, p.parts(g.units, 1)*gemmPanelL*gemmPanelJ)
	}
	return g
}

// run computes the units [lo, hi) of c.
func (g *gemmPlan) run(part, lo, hi int) {
	r0, r1, c0, c1 := 0, g.m, 0, g.n
	if g.byCols {
		c0, c1 = lo*g.colBlock, min(hi*g.colBlock, g.n)
	} else {
		r0, r1 = lo*g.rowsPerUnit, min(hi*g.rowsPerUnit, g.m)
	}
	for i := r0; i < r1; i++ {
		row := g.c[i*g.n+c0 : i*g.n+c1]
		if g.beta == 0 {
			clear(row)
		} else if g.beta != 1 {
			for j := range row {
				row[j] *= g.beta
			}
		}
	}
	if g.transB {
		// The tiles need op(b) = bᵀ packed, a transposing copy of every
		// element of b. With a long k and few rows of c to reuse each
		// packed block, long dot products win instead (encode's
		// 60×1152·1152×23589 forward: 51 ms tiled, 40 ms as dots); with a
		// short k the dots are all tail and the tiles win (k = 10:
		// 0.13 ms tiled, 0.19 ms as dots).
		if gemmKernels && r1-r0 >= 32 && c1-c0 >= 64 && (g.k < 256 || r1-r0 >= 128) {
			g.tiledRowUpdates(part, r0, r1, c0, c1)
			return
		}
		g.dots(r0, r1, c0, c1)
	} else {
		g.rowUpdates(part, r0, r1, c0, c1)
	}
}

// aAt is op(a)[i, l].
func (g *gemmPlan) aAt(i, l int) float32 {
	if g.transA {
		return g.a[l*g.m+i]
	}
	return g.a[i*g.k+l]
}

func (g *gemmPlan) rowUpdates(part, r0, r1, c0, c1 int) {
	// Packing b pays off only when enough rows of c reuse it; with a few
	// rows (dW of a 20- or 10-output layer) streaming b's rows is faster.
	if gemmKernels && r1-r0 >= 32 {
		g.tiledRowUpdates(part, r0, r1, c0, c1)
		return
	}
	n, al := g.n, g.alpha
	for l0 := 0; l0 < g.k; l0 += g.blockL {
		l1 := min(l0+g.blockL, g.k)
		for i := r0; i < r1; i++ {
			ci := g.c[i*n+c0 : i*n+c1]
			l := l0
			for ; l+4 <= l1; l += 4 {
				axpy4(ci, al*g.aAt(i, l), al*g.aAt(i, l+1), al*g.aAt(i, l+2), al*g.aAt(i, l+3),
					g.b[l*n+c0:], g.b[(l+1)*n+c0:], g.b[(l+2)*n+c0:], g.b[(l+3)*n+c0:])
			}
			for ; l < l1; l++ {
				axpy(ci, al*g.aAt(i, l), g.b[l*n+c0:])
			}
		}
	}
}

// aRow is row i of op(a), columns [l0, l1), when op(a) is row-major.
func (g *gemmPlan) aRow(i, l0, l1 int) []float32 {
	if g.at != nil {
		return g.at[i*g.k+l0 : i*g.k+l1]
	}
	return g.a[i*g.k+l0 : i*g.k+l1]
}

func (g *gemmPlan) dots(r0, r1, c0, c1 int) {
	k, n, al := g.k, g.n, g.alpha
	// Outer loop over the longer side so that the shorter one's rows stay in cache.
	rowsOuter := r1-r0 >= c1-c0
	for l0 := 0; l0 < k; l0 += g.blockLDot {
		l1 := min(l0+g.blockLDot, k)
		i := r0
		for ; i+4 <= r1 && rowsOuter; i += 4 {
			a0, a1, a2, a3 := g.aRow(i, l0, l1), g.aRow(i+1, l0, l1), g.aRow(i+2, l0, l1), g.aRow(i+3, l0, l1)
			for j := c0; j < c1; j++ {
				s0, s1, s2, s3 := dot4(g.b[j*k+l0:j*k+l1], a0, a1, a2, a3)
				g.c[i*n+j] += al * s0
				g.c[(i+1)*n+j] += al * s1
				g.c[(i+2)*n+j] += al * s2
				g.c[(i+3)*n+j] += al * s3
			}
		}
		if !rowsOuter {
			for j := c0; j < c1; j++ {
				bj := g.b[j*k+l0 : j*k+l1]
				ii := r0
				for ; ii+4 <= r1; ii += 4 {
					s0, s1, s2, s3 := dot4(bj, g.aRow(ii, l0, l1), g.aRow(ii+1, l0, l1), g.aRow(ii+2, l0, l1), g.aRow(ii+3, l0, l1))
					g.c[ii*n+j] += al * s0
					g.c[(ii+1)*n+j] += al * s1
					g.c[(ii+2)*n+j] += al * s2
					g.c[(ii+3)*n+j] += al * s3
				}
				for ; ii < r1; ii++ {
					g.c[ii*n+j] += al * dot(bj, g.aRow(ii, l0, l1))
				}
			}
			continue
		}
		for ; i < r1; i++ {
			ai := g.aRow(i, l0, l1)
			for j := c0; j < c1; j++ {
				g.c[i*n+j] += al * dot(g.b[j*k+l0:j*k+l1], ai)
			}
		}
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

// tiledRowUpdates is rowUpdates in 4×16 register tiles (kern4x16). The
// l range is cut into blocks of gemmPanelL and the columns into blocks of
// gemmPanelJ, so the block of b in use (256×256, 256 KB) stays in L2
// while every four rows of c pass over it. The block is first packed
// tile by tile (16 columns × the l-block, contiguous), so a tile reads
// consecutive memory instead of one cache line per row of b, 94 KB apart
// for the encoder; for each four rows alpha·op(a) is packed into a
// 4-wide panel on the stack. Columns and rows left over go through axpy.
func (g *gemmPlan) tiledRowUpdates(part, r0, r1, c0, c1 int) {
	n, al := g.n, g.alpha
	var panel [4 * gemmPanelL]float32
	bp := g.bpack[part*gemmPanelL*gemmPanelJ : (part+1)*gemmPanelL*gemmPanelJ]
	for l0 := 0; l0 < g.k; l0 += gemmPanelL {
		l1 := min(l0+gemmPanelL, g.k)
		kb := l1 - l0
		for j0 := c0; j0 < c1; j0 += gemmPanelJ {
			j1 := min(j0+gemmPanelJ, c1)
			tiles := (j1 - j0) / 16
			g.packB(bp, l0, l1, j0, tiles)
			i := r0
			for ; i+4 <= r1; i += 4 {
				ap := panel[:4*kb]
				for l := l0; l < l1; l++ {
					for q := 0; q < 4; q++ {
						ap[4*(l-l0)+q] = al * g.aAt(i+q, l)
					}
				}
				for t := 0; t < tiles; t++ {
					kern4x16(g.c[i*n+j0+16*t:], n, ap, bp[t*kb*16:], 16, kb)
				}
				if j := j0 + 16*tiles; j < j1 {
					for q := 0; q < 4; q++ {
						g.updateRow(i+q, l0, l1, j, j1)
					}
				}
			}
			for ; i < r1; i++ {
				g.updateRow(i, l0, l1, j0, j1)
			}
		}
	}
}

// gemmPanelL and gemmPanelJ block the tiled path; gemmPanelJ is a
// multiple of the tile width 16.
const (
	gemmPanelL = 256
	gemmPanelJ = 256
)

// packB copies tiles 16-column tiles of op(b), rows [l0, l1) and columns
// from j0, into bp as tile-major [tile][l][16].
func (g *gemmPlan) packB(bp []float32, l0, l1, j0, tiles int) {
	kb := l1 - l0
	if !g.transB {
		// Each 16-wide piece moves as one [16]float32 (four vector
		// moves), not a copy call.
		for t := 0; t < tiles; t++ {
			tile := bp[t*kb*16 : (t+1)*kb*16]
			src := g.b[l0*g.n+j0+16*t:]
			for l := 0; l < kb; l++ {
				*(*[16]float32)(tile[l*16:]) = *(*[16]float32)(src[l*g.n:])
			}
		}
		return
	}
	for t := 0; t < tiles; t++ {
		tile := bp[t*kb*16 : (t+1)*kb*16]
		// op(b)[l, j] = b[j, l]: each row of b fills one column of the tile.
		for jj := 0; jj < 16; jj++ {
			row := g.b[(j0+16*t+jj)*g.k+l0 : (j0+16*t+jj)*g.k+l1]
			for l, v := range row {
				tile[l*16+jj] = v
			}
		}
	}
}

// updateRow adds alpha·Σ_{l0≤l<l1} op(a)[i,l]·op(b)[l, j] into c[i, j]
// for j in [j0, j1): the edges the 4×16 tiles leave.
func (g *gemmPlan) updateRow(i, l0, l1, j0, j1 int) {
	n, al := g.n, g.alpha
	if g.transB {
		ai := g.aRow(i, l0, l1) // op(a) is row-major here: a, or its copy in at
		for j := j0; j < j1; j++ {
			g.c[i*n+j] += al * dot(g.b[j*g.k+l0:j*g.k+l1], ai)
		}
		return
	}
	ci := g.c[i*n+j0 : i*n+j1]
	for l := l0; l < l1; l++ {
		axpy(ci, al*g.aAt(i, l), g.b[l*n+j0:])
	}
}
