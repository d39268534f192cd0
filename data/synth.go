package data

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// SynthOptions configures SyntheticV1 and SyntheticV1Split. The zero value
// gives data shaped like the Stringer et al. files.
type SynthOptions struct {
	// Neurons is the population size; 0 means 23589, as in the real files.
	Neurons int
	// Stimuli is the number of orientation bins covering [0°,360°); 0 means
	// 360 (1° bins, like oribinned1.npz) for SyntheticV1 and 60 (6° bins,
	// like oribinned6_split.npz) for SyntheticV1Split.
	Stimuli int
	// Seed selects the population and the noise; equal options give equal
	// data.
	Seed int64
	// Noise is the single-trial noise standard deviation relative to a
	// neuron's tuning amplitude, before its per-neuron reliability factor;
	// 0 means 1. A negative value gives noiseless tuning curves.
	Noise float64
}

// Default sizes of the synthetic data.
const (
	DefaultNeurons      = 23589
	DefaultStimuli      = 360
	DefaultSplitStimuli = 60
	// synthTrials is the approximate number of grating presentations the
	// recording averages over (about 4,500 in Stringer et al.).
	synthTrials = 4500
)

// Random stream identifiers: each part of the generator draws from its own
// PCG stream, so that a neuron's tuning does not depend on the population
// size or on the number of goroutines.
const (
	streamNeuron     = 1 << 60
	streamTrials     = 2 << 60
	streamNoise      = 3 << 60
	streamSplitNoise = 4 << 60
)

// synthChunk is the number of neurons per noise stream and work item.
const synthChunk = 256

// neuron holds one synthetic neuron's tuning parameters.
type neuron struct {
	tuned            bool
	cos2Po, sin2Po   float64 // preferred orientation φo, as cos/sin of 2φo
	cosPd, sinPd     float64 // preferred direction φd ∈ {φo, φo+180°}
	kappaO, kappaD   float64 // von Mises concentrations
	dirFrac          float64 // share of the direction-selective component
	amp, base, noise float64 // amplitude, baseline, single-trial noise s.d.
	prefOriDeg       float64
}

// synthNeuron draws neuron n of the population for seed.
func synthNeuron(seed int64, n int, noise float64) neuron {
	rng := rand.New(rand.NewPCG(uint64(seed), streamNeuron+uint64(n)))
	logU := func(lo, hi float64) float64 {
		return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
	}
	var p neuron
	p.tuned = rng.Float64() < 0.8
	p.prefOriDeg = rng.Float64() * 180
	po := p.prefOriDeg * math.Pi / 180
	pd := po
	if rng.IntN(2) == 1 {
		pd += math.Pi
	}
	p.cos2Po, p.sin2Po = math.Cos(2*po), math.Sin(2*po)
	p.cosPd, p.sinPd = math.Cos(pd), math.Sin(pd)
	p.kappaO = logU(0.5, 4)
	p.kappaD = logU(0.5, 3)
	p.dirFrac = 0.5 * rng.Float64()
	p.amp = math.Exp(0.5 * rng.NormFloat64())
	p.base = rng.Float64()
	reliability := logU(0.5, 2)
	p.noise = noise * p.amp / reliability
	return p
}

// tuning returns the neuron's mean response at an orientation given as
// cos/sin of θ and of 2θ.
func (p *neuron) tuning(c1, s1, c2, s2 float64) float64 {
	if !p.tuned {
		return p.base
	}
	ori := math.Exp(p.kappaO * (c2*p.cos2Po + s2*p.sin2Po - 1))
	dir := math.Exp(p.kappaD * (c1*p.cosPd + s1*p.sinPd - 1))
	return p.base + p.amp*((1-p.dirFrac)*ori+p.dirFrac*dir)
}

// synthStimuli draws the trials of each of S orientation bins: the number
// of trials per bin (about synthTrials/S, at least 2) and the bin's
// stimulus orientation, the mean of its trials' uniformly drawn angles.
func synthStimuli(seed int64, S int) (stim []float32, trials []int) {
	rng := rand.New(rand.NewPCG(uint64(seed), streamTrials+uint64(S)))
	width := 360 / float64(S)
	mean := float64(synthTrials) / float64(S)
	stim = make([]float32, S)
	trials = make([]int, S)
	for s := range stim {
		k := max(2, int(math.Round(mean*(0.7+0.6*rng.Float64()))))
		var sum float64
		for t := 0; t < k; t++ {
			sum += (float64(s) + rng.Float64()) * width
		}
		stim[s] = float32(sum / float64(k))
		trials[s] = k
	}
	return stim, trials
}

func (o SynthOptions) defaults(stimuli int) SynthOptions {
	if o.Neurons <= 0 {
		o.Neurons = DefaultNeurons
	}
	if o.Stimuli <= 0 {
		o.Stimuli = stimuli
	}
	switch {
	case o.Noise == 0 || math.IsNaN(o.Noise):
		o.Noise = 1
	case o.Noise < 0:
		o.Noise = 0
	}
	return o
}

// SyntheticV1 returns SYNTHETIC V1-like data, not a recording: a population
// of o.Neurons orientation- and direction-tuned model neurons responding to
// o.Stimuli orientation bins covering [0°,360°).
//
// Each neuron has a random preferred orientation φo (uniform in [0°,180°))
// and direction (φo or φo+180°); 80% are tuned, with mean response
// base + amp·((1−d)·exp(κo(cos 2(θ−φo) − 1)) + d·exp(κd(cos(θ−φd) − 1))),
// κo log-uniform in [0.5,4], κd in [0.5,3], d uniform in [0,0.5]; the rest
// respond with their baseline only. Each bin averages about 4500/S trials
// with Gaussian single-trial noise (s.d. o.Noise·amp/reliability,
// reliability log-uniform in [0.5,2]); the averaged noise is drawn directly
// with s.d. reduced by √trials, and the tuning is evaluated at the bin's
// mean trial angle, which is also its Stimuli entry. The single-trial
// noise leaves the tuning 8% of a tuned neuron's single-trial variance on
// average (median 6%).
//
// As the recordings are, each neuron is z-scored over its single trials
// (population s.d.) before the trials are averaged into bins, so a bin's
// response keeps 1/trials of the noise variance and the binned responses
// of a neuron have a variance well below 1 (about 0.15 on average with
// 1° bins). This sets the scale of the inputs a decoder sees: z-scored
// after binning instead, the responses' covariance has a top eigenvalue
// several times larger, enough to make the Bonus tutorial's full-batch
// decoder recipe (lr 0.1) diverge.
//
// The result depends only on the options: neuron n's tuning is the same
// for any population size, and the output does not depend on GOMAXPROCS.
func SyntheticV1(o SynthOptions) *V1 {
	o = o.defaults(DefaultStimuli)
	S, N := o.Stimuli, o.Neurons
	stim, trials := synthStimuli(o.Seed, S)
	v := &V1{S: S, N: N, Stimuli: stim, Resp: make([]float32, S*N), Synthetic: true}
	synthesize(o, stim, [][]int{trials}, []uint64{streamNoise}, [][]float32{v.Resp})
	return v
}

// SyntheticV1Split returns SYNTHETIC data in the split-file format: the
// population of SyntheticV1 with the same options (o.Stimuli defaults to
// 60 bins of 6°), whose trials in each bin are divided into two halves
// with independent noise, averaged separately into RespTrain and RespTest.
// The trials of both halves are z-scored together, before binning, so
// the halves stay comparable.
func SyntheticV1Split(o SynthOptions) *V1Split {
	o = o.defaults(DefaultSplitStimuli)
	S, N := o.Stimuli, o.Neurons
	stim, trials := synthStimuli(o.Seed, S)
	train, test := make([]int, S), make([]int, S)
	for s, k := range trials {
		train[s] = (k + 1) / 2
		test[s] = k / 2
	}
	v := &V1Split{S: S, N: N, Stimuli: stim, RespTrain: make([]float32, S*N), RespTest: make([]float32, S*N), Synthetic: true}
	synthesize(o, stim, [][]int{train, test}, []uint64{streamNoise, streamSplitNoise}, [][]float32{v.RespTrain, v.RespTest})
	return v
}

// synthesize fills each outs[h] (S×N) with the population's binned
// responses for trial counts trials[h], drawing noise from stream
// streams[h], z-scored by each neuron's single trials of all halves
// together (singleTrialMoments).
func synthesize(o SynthOptions, stim []float32, trials [][]int, streams []uint64, outs [][]float32) {
	S, N := len(stim), o.Neurons
	c1, s1 := make([]float64, S), make([]float64, S)
	c2, s2 := make([]float64, S), make([]float64, S)
	for s, st := range stim {
		th := float64(st) * math.Pi / 180
		c1[s], s1[s] = math.Cos(th), math.Sin(th)
		c2[s], s2[s] = math.Cos(2*th), math.Sin(2*th)
	}
	H := len(outs)
	invSqrt := make([][]float64, H)
	for h := range invSqrt {
		invSqrt[h] = make([]float64, S)
		for s, k := range trials[h] {
			invSqrt[h][s] = 1 / math.Sqrt(float64(k))
		}
	}

	nChunks := (N + synthChunk - 1) / synthChunk
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), nChunks); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float64, H*S*synthChunk)
			mean := make([]float64, S)
			for c := range work {
				n0, n1 := c*synthChunk, min((c+1)*synthChunk, N)
				width := n1 - n0
				rngs := make([]*rand.Rand, H)
				for h := range rngs {
					rngs[h] = rand.New(rand.NewPCG(uint64(o.Seed), streams[h]+uint64(c)))
				}
				for j := 0; j < width; j++ {
					p := synthNeuron(o.Seed, n0+j, o.Noise)
					for s := 0; s < S; s++ {
						mean[s] = p.tuning(c1[s], s1[s], c2[s], s2[s])
					}
					// Neuron-major draws keep neuron n's noise independent
					// of N; the values are stored [h][s][j].
					for h := 0; h < H; h++ {
						for s := 0; s < S; s++ {
							r := mean[s]
							if p.noise > 0 {
								r += p.noise * invSqrt[h][s] * rngs[h].NormFloat64()
							}
							buf[(h*S+s)*synthChunk+j] = r
						}
					}
					m, sd := singleTrialMoments(buf[j:], synthChunk, trials, p.noise)
					// A constant neuron (untuned and noiseless) has only
					// rounding error left; it z-scores to 0, not ±1.
					inv := 0.0
					if sd > 1e-9*(math.Abs(m)+1) {
						inv = 1 / sd
					}
					for h := 0; h < H; h++ {
						for s := 0; s < S; s++ {
							i := (h*S+s)*synthChunk + j
							buf[i] = (buf[i] - m) * inv
						}
					}
				}
				for h := 0; h < H; h++ {
					for s := 0; s < S; s++ {
						row := outs[h][s*N+n0 : s*N+n1]
						src := buf[(h*S+s)*synthChunk:]
						for j := range row {
							row[j] = float32(src[j])
						}
					}
				}
			}
		}()
	}
	for c := 0; c < nChunks; c++ {
		work <- c
	}
	close(work)
	wg.Wait()
}

// SynthPreferredOrientation returns the preferred orientation in degrees
// ([0,180)) of neuron n of the synthetic population for seed, and whether
// the neuron is tuned at all. It is the ground truth for analyses of
// SyntheticV1 data.
func SynthPreferredOrientation(seed int64, n int) (deg float64, tuned bool) {
	p := synthNeuron(seed, n, 1)
	return p.prefOriDeg, p.tuned
}

// singleTrialMoments returns the mean and population s.d. over the
// single trials of one neuron whose bin means are x[(h*S+s)*stride]
// (half h of the trials[h][s] trials in bin s, S = len(trials[h])), with
// Gaussian trial noise of s.d. noise. The recordings are z-scored over
// single trials before binning (Stringer et al.'s compile_resp; the
// tutorials' load_data averages the z-scored trials), so a bin mean keeps
// only its share of the noise. The trial mean is exact (k·x̄ is the sum of
// a bin's trials); the scatter of trials about their bin mean, not kept,
// enters by its expectation (k−1)·noise².
func singleTrialMoments(x []float64, stride int, trials [][]int, noise float64) (mean, sd float64) {
	var sum, n, within float64
	i := 0
	for _, ks := range trials {
		for _, k := range ks {
			sum += float64(k) * x[i*stride]
			n += float64(k)
			within += float64(k-1) * noise * noise
			i++
		}
	}
	mean = sum / n
	ss := within
	i = 0
	for _, ks := range trials {
		for _, k := range ks {
			d := x[i*stride] - mean
			ss += float64(k) * d * d
			i++
		}
	}
	return mean, math.Sqrt(ss / n)
}
