package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// FilterExample is one labelled text for the filter.
type FilterExample struct {
	Text  string
	Legal bool
	// Source says where the text came from ("qa.question", "nonlegal", …). The held-out split is
	// stratified by it, metrics are broken down by it, and the threshold is chosen on one of them.
	Source string
	// Group ties examples cut from one text (a question, its title, its sentences) to the same
	// side of the held-out split, so held-out never sees a text the model learned in part.
	Group string
}

// FilterTrainOptions tunes TrainFilter. Start from DefaultFilterTrainOptions.
type FilterTrainOptions struct {
	Features FeatureConfig
	Analyzer MorphemeAnalyzer // needed when Features.Morphemes is set

	Epochs       int
	LearningRate float64 // AdaGrad's base step
	L2           float64 // weight decay per update, applied to the features an example touches
	Seed         uint64  // the split and the example order follow from it, so runs repeat exactly

	// HeldOut is the share of every source kept out of training to choose the threshold on.
	HeldOut float64
	// TargetFRR is the largest share of held-out legal questions the threshold may reject.
	TargetFRR float64
	// ThresholdSources are the sources whose held-out texts the FRR target is met on: the texts
	// most like what users type. Empty means every legal source.
	ThresholdSources []string

	// ShortMaxRunes and ShortTargetError set the unsure band of chat-length messages
	// (ShortBand), chosen on the held-out texts of ShortSources (all when empty); ShortMaxRunes
	// 0 trains no band.
	ShortMaxRunes    int
	ShortTargetError float64
	ShortSources     []string

	Workers int // goroutines extracting features; 0 means GOMAXPROCS

	// Progress, when set, receives the bytes of text processed so far (feature extraction, then
	// each epoch) and the total that will be, from the calling goroutine.
	Progress func(done, total int64)
}

// DefaultFilterTrainOptions are the settings lawbot train uses.
func DefaultFilterTrainOptions(features FeatureConfig, analyzer MorphemeAnalyzer) FilterTrainOptions {
	return FilterTrainOptions{
		Features:     features,
		Analyzer:     analyzer,
		Epochs:       6,
		LearningRate: 0.3,
		L2:           3e-5,
		Seed:         1,
		HeldOut:      0.15,
		// 1% on held-out leaves room for the sampling error of a few hundred questions under the
		// 2% the service promises: see chooseThreshold for why rejections are the costly side.
		TargetFRR: 0.01,
	}
}

// TrainFilter learns a filter from examples: a stratified, seeded split into training and
// held-out texts, AdaGrad on the class-weighted logistic loss, then the threshold on held-out.
func TrainFilter(examples []FilterExample, opt FilterTrainOptions) (*Filter, error) {
	space, err := newFeatureSpace(opt.Features, opt.Analyzer)
	if err != nil {
		return nil, err
	}
	switch {
	case opt.Epochs < 1:
		return nil, fmt.Errorf("epochs %d: want at least 1", opt.Epochs)
	case !(opt.LearningRate > 0):
		return nil, fmt.Errorf("learning rate %g: want > 0", opt.LearningRate)
	case !(opt.L2 >= 0):
		return nil, fmt.Errorf("L2 %g: want ≥ 0", opt.L2)
	case !(opt.HeldOut > 0 && opt.HeldOut < 1):
		return nil, fmt.Errorf("held-out share %g: want between 0 and 1", opt.HeldOut)
	case !(opt.TargetFRR >= 0 && opt.TargetFRR < 1):
		return nil, fmt.Errorf("target FRR %g: want between 0 and 1", opt.TargetFRR)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	train, held := splitBySource(examples, opt.HeldOut, rng)
	if err := checkClasses("training", examples, train, nil); err != nil {
		return nil, err
	}
	if err := checkClasses("held-out", examples, held, opt.ThresholdSources); err != nil {
		return nil, err
	}

	var textBytes, trainBytes int64
	for _, e := range examples {
		textBytes += int64(len(e.Text))
	}
	for _, i := range train {
		trainBytes += int64(len(examples[i].Text))
	}
	total := textBytes + int64(opt.Epochs)*trainBytes
	progress := func(done int64) {
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}

	vectors := extractAll(space, examples, opt.Workers, progress)
	done := textBytes

	f := &Filter{
		space:   space,
		weights: make([]float32, 1<<opt.Features.HashBits),
	}
	sgd := newAdaGrad(len(f.weights), opt.LearningRate, opt.L2)
	// Class weights make both classes count as much in the loss: the corpus has about four
	// everyday utterances per legal text, and unweighted the model would learn to say "not
	// legal" whenever unsure.
	var nLegal int
	for _, i := range train {
		if examples[i].Legal {
			nLegal++
		}
	}
	weightLegal := float64(len(train)) / (2 * float64(nLegal))
	weightOther := float64(len(train)) / (2 * float64(len(train)-nLegal))
	order := slices.Clone(train)
	for range opt.Epochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for k, i := range order {
			y, w := 0.0, weightOther
			if examples[i].Legal {
				y, w = 1, weightLegal
			}
			v := vectors[i]
			g := w * (sigmoid(f.margin(v)) - y)
			sgd.step(f, v, g)
			done += int64(len(examples[i].Text))
			if k%512 == 0 {
				progress(done)
			}
		}
	}
	progress(total)

	scores := make([]float64, len(held))
	for k, i := range held {
		scores[k] = sigmoid(f.margin(vectors[i]))
	}
	f.info = FilterInfo{
		Features: opt.Features,
		Training: FilterTraining{
			Examples: len(train), HeldOut: len(held), Epochs: opt.Epochs,
			LearningRate: opt.LearningRate, L2: opt.L2, Seed: opt.Seed,
			TargetFRR: opt.TargetFRR, ThresholdSources: opt.ThresholdSources,
		},
	}
	f.info.Threshold = chooseThreshold(legalScores(examples, held, scores, opt.ThresholdSources), opt.TargetFRR)
	f.info.HeldOut = heldOutMetrics(examples, held, scores, f.info.Threshold, opt.ThresholdSources)
	if opt.ShortMaxRunes > 0 {
		f.info.Short = chooseShortBand(examples, held, scores, opt.ShortMaxRunes, opt.ShortTargetError, opt.ShortSources, f.info.Threshold)
	}
	return f, nil
}

// ShortMessageRunes is the length up to which a message is chat-length: decided by the filter's
// unsure band.
const ShortMessageRunes = 30

// minBandTexts is the fewest held-out short texts of each class a band is chosen on; with
// fewer, short messages are decided at the threshold like any other.
const minBandTexts = 20

// chooseShortBand picks the unsure band on the held-out texts of at most maxRunes characters:
// Low as high as it can be while at most target of the legal ones score below it, High as low
// as it can be while at most target of the everyday ones reach it, and never below threshold.
// Where the two classes are apart enough that High ≤ Low, there is no band: one cut midway
// decides.
func chooseShortBand(examples []FilterExample, held []int, scores []float64, maxRunes int, target float64, sources []string, threshold float64) ShortBand {
	var legal, other []float64
	for k, i := range held {
		if utf8.RuneCountInString(strings.TrimSpace(examples[i].Text)) > maxRunes ||
			(len(sources) > 0 && !slices.Contains(sources, examples[i].Source)) {
			continue
		}
		if examples[i].Legal {
			legal = append(legal, scores[k])
		} else {
			other = append(other, scores[k])
		}
	}
	if len(legal) < minBandTexts || len(other) < minBandTexts {
		return ShortBand{}
	}
	b := ShortBand{MaxRunes: maxRunes, TargetError: target, Legal: len(legal), NonLegal: len(other)}
	b.Low = chooseThreshold(legal, target)
	// High: the everyday scores mirrored, so the same rule keeps at most target at or above it.
	neg := make([]float64, len(other))
	for i, x := range other {
		neg[i] = -x
	}
	b.High = math.Nextafter(-chooseThreshold(neg, target), math.Inf(1)) // the cut's own score stays below
	// A short message needs at least the evidence a long one needs to be answered outright:
	// what the threshold turns away is at best unsure.
	b.High = max(b.High, threshold)
	if b.High < b.Low {
		b.Low = (b.Low + b.High) / 2
		b.High = b.Low
	}
	var frr, far, unsure int
	for _, x := range legal {
		switch {
		case x < b.Low:
			frr++
		case x < b.High:
			unsure++
		}
	}
	for _, x := range other {
		switch {
		case x >= b.High:
			far++
		case x >= b.Low:
			unsure++
		}
	}
	b.FRR, b.FAR = float64(frr)/float64(len(legal)), float64(far)/float64(len(other))
	b.Unsure = float64(unsure) / float64(len(legal)+len(other))
	return b
}

// splitBySource keeps share of each source's examples (at least one where a source has two or
// more, so a small corpus still tests every source) for held-out, chosen by rng. Examples of one
// Group move together, filed under the source of the group's first example.
func splitBySource(examples []FilterExample, share float64, rng *rand.Rand) (train, held []int) {
	unitOf := map[string]int{} // group → unit
	var units [][]int
	bySource := map[string][]int{} // source → units
	for i, e := range examples {
		if e.Group != "" {
			if u, ok := unitOf[e.Group]; ok {
				units[u] = append(units[u], i)
				continue
			}
			unitOf[e.Group] = len(units)
		}
		bySource[e.Source] = append(bySource[e.Source], len(units))
		units = append(units, []int{i})
	}
	sources := make([]string, 0, len(bySource))
	for s := range bySource {
		sources = append(sources, s)
	}
	sort.Strings(sources) // map order must not reach the random draws
	for _, s := range sources {
		us := bySource[s]
		rng.Shuffle(len(us), func(a, b int) { us[a], us[b] = us[b], us[a] })
		n := int(math.Round(share * float64(len(us))))
		if n == 0 && len(us) >= 2 {
			n = 1
		}
		if n == len(us) {
			n = len(us) - 1
		}
		for k, u := range us {
			if k < n {
				held = append(held, units[u]...)
			} else {
				train = append(train, units[u]...)
			}
		}
	}
	slices.Sort(train)
	slices.Sort(held)
	return train, held
}

// checkClasses fails when part lacks a class, or lacks legal texts of thresholdSources when
// those are set.
func checkClasses(name string, examples []FilterExample, part []int, thresholdSources []string) error {
	var legal, other, fromSource int
	for _, i := range part {
		if examples[i].Legal {
			legal++
			if slices.Contains(thresholdSources, examples[i].Source) {
				fromSource++
			}
		} else {
			other++
		}
	}
	switch {
	case legal == 0 || other == 0:
		return fmt.Errorf("%s split has %d legal and %d non-legal texts: need both (more examples?)", name, legal, other)
	case len(thresholdSources) > 0 && fromSource == 0:
		return fmt.Errorf("%s split has no legal texts from %q to choose the threshold on", name, thresholdSources)
	}
	return nil
}

// extractAll computes every example's feature vector on several goroutines; vectors land at
// their example's index, so the result does not depend on scheduling.
func extractAll(space featureSpace, examples []FilterExample, workers int, progress func(int64)) []sparseVector {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	vectors := make([]sparseVector, len(examples))
	jobs := make(chan int)
	finished := make(chan int)
	for range workers {
		go func() {
			for i := range jobs {
				vectors[i] = space.vector(examples[i].Text)
				finished <- i
			}
		}()
	}
	go func() {
		for i := range examples {
			jobs <- i
		}
		close(jobs)
	}()
	var done int64
	for k := range examples {
		done += int64(len(examples[<-finished].Text))
		if k%512 == 0 {
			progress(done)
		}
	}
	progress(done)
	return vectors
}

// adaGrad gives each weight its own step size, shrinking with the gradients it has seen:
// frequent n-grams settle quickly while rare but telling ones (가압류, 임차권등기) still move.
type adaGrad struct {
	rate, l2 float64
	sum      []float32 // squared gradients per weight
	biasSum  float64
}

func newAdaGrad(n int, rate, l2 float64) *adaGrad {
	return &adaGrad{rate: rate, l2: l2, sum: make([]float32, n)}
}

// step moves f against the loss gradient g·x (g is dLoss/dmargin) plus the L2 pull on the
// weights x touches; decaying only those keeps a step proportional to the text, not the model.
func (a *adaGrad) step(f *Filter, v sparseVector, g float64) {
	const eps = 1e-8
	for k, j := range v.idx {
		w := float64(f.weights[j])
		grad := g*float64(v.val[k]) + a.l2*w
		a.sum[j] += float32(grad * grad)
		f.weights[j] = float32(w - a.rate*grad/math.Sqrt(float64(a.sum[j])+eps))
	}
	a.biasSum += g * g
	f.bias -= a.rate * g / math.Sqrt(a.biasSum+eps)
}

// legalScores are the held-out scores of the legal texts from sources (nil: every source).
func legalScores(examples []FilterExample, held []int, scores []float64, sources []string) []float64 {
	var out []float64
	for k, i := range held {
		if examples[i].Legal && (sources == nil || slices.Contains(sources, examples[i].Source)) {
			out = append(out, scores[k])
		}
	}
	return out
}

// chooseThreshold returns the highest threshold that rejects at most targetFRR of the legal
// scores.
//
// The trade-off: lowering the threshold turns fewer legal questions away (FRR) but lets more
// small talk through (FAR). The two errors do not cost the same. A rejected legal question is a
// person in trouble told "this is not a legal matter" — they may give up. An accepted chat line
// costs one retrieval and an answer that says no law fits. So the threshold is set by the FRR
// target alone, and within it as high as possible to keep FAR down; the threshold lies midway
// between the last rejected and the first accepted score, for the widest margin on both sides.
func chooseThreshold(legal []float64, targetFRR float64) float64 {
	if len(legal) == 0 {
		return 0.5
	}
	s := slices.Clone(legal)
	slices.Sort(s)
	k := int(math.Floor(targetFRR * float64(len(s)))) // rejections allowed
	for k > 0 && s[k-1] == s[k] {
		k-- // a tie cannot be split: rejecting one would reject all
	}
	if k == 0 {
		return s[0]
	}
	return (s[k-1] + s[k]) / 2
}

// heldOutMetrics measures FRR (on thresholdSources), FAR and per-source error rates.
func heldOutMetrics(examples []FilterExample, held []int, scores []float64, threshold float64, thresholdSources []string) FilterMetrics {
	type tally struct {
		legal        bool
		texts, wrong int
	}
	bySource := map[string]*tally{}
	var m FilterMetrics
	var frrTexts, frrWrong, farWrong int
	for k, i := range held {
		e := examples[i]
		accepted := scores[k] >= threshold
		t := bySource[e.Source]
		if t == nil {
			t = &tally{legal: e.Legal}
			bySource[e.Source] = t
		}
		t.texts++
		if e.Legal {
			m.Legal++
			if thresholdSources == nil || slices.Contains(thresholdSources, e.Source) {
				frrTexts++
				if !accepted {
					frrWrong++
				}
			}
			if !accepted {
				t.wrong++
			}
		} else {
			m.NonLegal++
			if accepted {
				t.wrong++
				farWrong++
			}
		}
	}
	m.FRR, m.FRRTexts = rate(frrWrong, frrTexts), frrTexts
	m.FAR = rate(farWrong, m.NonLegal)
	for s, t := range bySource {
		m.Sources = append(m.Sources, SourceMetrics{Source: s, Legal: t.legal, Texts: t.texts, Errors: rate(t.wrong, t.texts)})
	}
	sort.Slice(m.Sources, func(a, b int) bool { return m.Sources[a].Source < m.Sources[b].Source })
	return m
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
