package models

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseArch reads a network written as the argument list of PyTorch's
// nn.Sequential(...): module constructors separated by commas, with
// positional and keyword arguments as in PyTorch, e.g.
//
//	Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Flatten(), Linear(768, 32), ELU(), Linear(32, 1), Sigmoid()
//
// so a user can copy it from their PyTorch code. An enclosing
// "nn.Sequential(...)", "nn." or "torch.nn." prefixes, newlines,
// trailing commas and # comments are accepted. Modules: Conv2d, Linear,
// MaxPool2d, AvgPool2d, Flatten, ReLU, ELU, Sigmoid, Tanh, Softplus,
// LogSoftmax, Softmax, Dropout, with PyTorch's defaults; arguments that
// select behaviour vkneuro does not have (dilation, groups, pool
// padding, ceil_mode, ...) are accepted only at their default values.
// Errors name the module by index and say what was expected. Shapes are
// not checked here but by New, which knows the input.
func ParseArch(spec string) ([]Layer, error) {
	p := &parser{src: spec}
	calls, err := p.parseSpec()
	if err != nil {
		return nil, fmt.Errorf("arch: %w", err)
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("arch: no modules in %q", spec)
	}
	layers := make([]Layer, len(calls))
	for i, c := range calls {
		l, err := c.build()
		if err != nil {
			return nil, fmt.Errorf("arch: module %d %s: %w", i, c.text, err)
		}
		layers[i] = l
	}
	return layers, nil
}

// FormatArch writes layers as ParseArch reads them.
func FormatArch(layers []Layer) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		if w, ok := l.(named); ok {
			l = w.Layer
		}
		parts[i] = l.String()
	}
	return strings.Join(parts, ", ")
}

// value is a Python literal: an int, float, bool, None, string or tuple.
type value struct {
	kind  valueKind
	i     int64
	f     float64
	b     bool
	s     string
	tuple []value
	text  string // as written
}

type valueKind int

const (
	vInt valueKind = iota
	vFloat
	vBool
	vNone
	vString
	vTuple
)

type arg struct {
	key string // "" for positional
	v   value
}

// call is one module constructor as written.
type call struct {
	name string
	args []arg
	text string
	pos  int
}

type parser struct {
	src string
	pos int
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, a...))
}

// skip passes whitespace and # comments.
func (p *parser) skip() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	p.skip()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) accept(c byte) bool {
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if !p.accept(c) {
		return p.errorf("expected %q, found %s", c, p.found())
	}
	return nil
}

func (p *parser) found() string {
	if p.peek() == 0 {
		return "the end"
	}
	r := []rune(p.src[p.pos:])
	if len(r) > 12 {
		return strconv.Quote(string(r[:12]) + "…")
	}
	return strconv.Quote(string(r))
}

// ident reads a dotted name such as torch.nn.Conv2d.
func (p *parser) ident() string {
	p.skip()
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || c == '.' || c >= '0' && c <= '9' && p.pos > start || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

func (p *parser) parseSpec() ([]call, error) {
	save := p.pos
	if name := p.ident(); moduleName(name) == "Sequential" && p.accept('(') {
		calls, err := p.parseCalls(')')
		if err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		if p.peek() != 0 {
			return nil, p.errorf("unexpected %s after Sequential(...)", p.found())
		}
		return calls, nil
	}
	p.pos = save
	calls, err := p.parseCalls(0)
	if err != nil {
		return nil, err
	}
	if p.peek() != 0 {
		return nil, p.errorf("expected ',' between modules, found %s", p.found())
	}
	return calls, nil
}

// parseCalls reads module calls separated by commas up to end (0 for
// the end of input, or a closing parenthesis left unread).
func (p *parser) parseCalls(end byte) ([]call, error) {
	var calls []call
	for {
		if c := p.peek(); c == end || c == 0 {
			return calls, nil
		}
		c, err := p.parseCall()
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
		if !p.accept(',') {
			return calls, nil
		}
	}
}

func (p *parser) parseCall() (call, error) {
	p.skip()
	start := p.pos
	name := p.ident()
	if name == "" {
		return call{}, p.errorf("expected a module such as Linear(...), found %s", p.found())
	}
	if err := p.expect('('); err != nil {
		return call{}, fmt.Errorf("%s: %w", name, err)
	}
	c := call{name: moduleName(name), pos: start}
	seenKey := false
	for !p.accept(')') {
		save := p.pos
		key := p.ident()
		if key != "" && !strings.Contains(key, ".") && p.accept('=') {
			seenKey = true
		} else {
			p.pos, key = save, ""
			if seenKey {
				return call{}, p.errorf("%s: positional argument follows keyword argument", name)
			}
		}
		v, err := p.parseValue(0)
		if err != nil {
			return call{}, fmt.Errorf("%s: %w", name, err)
		}
		c.args = append(c.args, arg{key: key, v: v})
		if !p.accept(',') {
			if err := p.expect(')'); err != nil {
				return call{}, fmt.Errorf("%s: %w", name, err)
			}
			break
		}
	}
	c.text = strings.Join(strings.Fields(p.src[start:p.pos]), " ")
	return c, nil
}

// maxDepth bounds tuple nesting (a fuzzer's ((((((...)))))) would
// otherwise recurse without end).
const maxDepth = 8

func (p *parser) parseValue(depth int) (value, error) {
	p.skip()
	start := p.pos
	c := p.peek()
	switch {
	case c == '(' || c == '[':
		if depth >= maxDepth {
			return value{}, p.errorf("tuples nested too deep")
		}
		closing := byte(')')
		if c == '[' {
			closing = ']'
		}
		p.pos++
		v := value{kind: vTuple}
		for !p.accept(closing) {
			e, err := p.parseValue(depth + 1)
			if err != nil {
				return value{}, err
			}
			v.tuple = append(v.tuple, e)
			if !p.accept(',') {
				if err := p.expect(closing); err != nil {
					return value{}, err
				}
				break
			}
		}
		if c == '(' && len(v.tuple) == 1 && !strings.HasSuffix(strings.TrimSpace(p.src[start:p.pos-1]), ",") {
			v = v.tuple[0] // (3) is 3, not a tuple
		}
		v.text = p.src[start:p.pos]
		return v, nil
	case c == '\'' || c == '"':
		p.pos++
		end := strings.IndexByte(p.src[p.pos:], c)
		if end < 0 {
			return value{}, p.errorf("unterminated string")
		}
		s := p.src[p.pos : p.pos+end]
		p.pos += end + 1
		return value{kind: vString, s: s, text: p.src[start:p.pos]}, nil
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return p.parseNumber()
	}
	switch word := p.ident(); word {
	case "True", "False":
		return value{kind: vBool, b: word == "True", text: word}, nil
	case "None":
		return value{kind: vNone, text: word}, nil
	case "":
		return value{}, p.errorf("expected a value, found %s", p.found())
	default:
		return value{}, p.errorf("expected a number, True, False, None, a string or a tuple, found %q", word)
	}
}

func (p *parser) parseNumber() (value, error) {
	start := p.pos
	if c := p.src[p.pos]; c == '-' || c == '+' {
		p.pos++
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c >= '0' && c <= '9' || c == '.' || c == '_' || c == 'e' || c == 'E' ||
			(c == '-' || c == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') {
			p.pos++
			continue
		}
		break
	}
	text := p.src[start:p.pos]
	clean := strings.ReplaceAll(text, "_", "")
	if !strings.ContainsAny(clean, ".eE") {
		i, err := strconv.ParseInt(clean, 10, 64)
		if err != nil {
			return value{}, fmt.Errorf("at offset %d: bad integer %q", start, text)
		}
		return value{kind: vInt, i: i, f: float64(i), text: text}, nil
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return value{}, fmt.Errorf("at offset %d: bad number %q", start, text)
	}
	return value{kind: vFloat, f: f, text: text}, nil
}

// moduleName strips torch.nn. and nn. from a constructor name.
func moduleName(name string) string {
	for _, pre := range []string{"torch.nn.", "nn."} {
		if n, ok := strings.CutPrefix(name, pre); ok {
			return n
		}
	}
	return name
}

// binding is a call's arguments matched to a constructor's parameters.
type binding struct {
	c    call
	vals map[string]value
}

// bind matches c's arguments to the parameters params (PyTorch's order),
// with defaults given as Python literals.
func (c call) bind(params []string, defaults map[string]string) (*binding, error) {
	b := &binding{c: c, vals: map[string]value{}}
	pos := 0
	for _, a := range c.args {
		key := a.key
		if key == "" {
			if pos >= len(params) {
				return nil, fmt.Errorf("takes at most %d positional arguments (%s), got %d", len(params), strings.Join(params, ", "), pos+1)
			}
			key = params[pos]
			pos++
		} else if !contains(params, key) {
			return nil, fmt.Errorf("unexpected keyword argument %q (it takes %s)", key, strings.Join(params, ", "))
		}
		if _, dup := b.vals[key]; dup {
			return nil, fmt.Errorf("got multiple values for argument %q", key)
		}
		b.vals[key] = a.v
	}
	for _, k := range params {
		if _, ok := b.vals[k]; ok {
			continue
		}
		d, ok := defaults[k]
		if !ok {
			return nil, fmt.Errorf("missing required argument %q", k)
		}
		v, err := (&parser{src: d}).parseValue(0)
		if err != nil {
			panic("models: bad default " + d) // the table below is wrong
		}
		b.vals[k] = v
	}
	return b, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (b *binding) int(key string) (int, error) {
	v := b.vals[key]
	if v.kind != vInt || v.i < math.MinInt32 || v.i > math.MaxInt32 {
		return 0, fmt.Errorf("%s must be an integer, got %s", key, v.text)
	}
	return int(v.i), nil
}

// positive is an integer ≥ 1.
func (b *binding) positive(key string) (int, error) {
	n, err := b.int(key)
	if err == nil && n < 1 {
		err = fmt.Errorf("%s must be positive, got %d", key, n)
	}
	return n, err
}

// pair is an int or a 2-tuple of ints, as PyTorch's _pair takes them.
func (b *binding) pair(key string, min int) ([2]int, error) {
	v := b.vals[key]
	var out [2]int
	switch {
	case v.kind == vInt && v.i >= int64(min) && v.i <= math.MaxInt32:
		out = [2]int{int(v.i), int(v.i)}
	case v.kind == vTuple && len(v.tuple) == 2:
		for i, e := range v.tuple {
			if e.kind != vInt || e.i < int64(min) || e.i > math.MaxInt32 {
				return out, fmt.Errorf("%s must be an integer ≥ %d or a pair of them, got %s", key, min, v.text)
			}
			out[i] = int(e.i)
		}
	default:
		return out, fmt.Errorf("%s must be an integer ≥ %d or a pair of them, got %s", key, min, v.text)
	}
	return out, nil
}

func (b *binding) float(key string) (float64, error) {
	v := b.vals[key]
	if v.kind != vInt && v.kind != vFloat {
		return 0, fmt.Errorf("%s must be a number, got %s", key, v.text)
	}
	return v.f, nil
}

func (b *binding) bool(key string) (bool, error) {
	v := b.vals[key]
	if v.kind != vBool {
		return false, fmt.Errorf("%s must be True or False, got %s", key, v.text)
	}
	return v.b, nil
}

// fixed requires key at its default (or an equivalent) value: a setting
// vkneuro does not implement.
func (b *binding) fixed(key string, allowed ...string) error {
	v := b.vals[key]
	for _, a := range allowed {
		if strings.ReplaceAll(v.text, " ", "") == a {
			return nil
		}
	}
	return fmt.Errorf("%s=%s is not supported (only %s)", key, v.text, strings.Join(allowed, " or "))
}

// first returns the first error of errs.
func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// build turns a call into its Layer.
func (c call) build() (Layer, error) {
	switch c.name {
	case "Conv2d":
		b, err := c.bind([]string{"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode", "device", "dtype"},
			map[string]string{"stride": "1", "padding": "0", "dilation": "1", "groups": "1", "bias": "True", "padding_mode": "'zeros'", "device": "None", "dtype": "None"})
		if err != nil {
			return nil, err
		}
		var l Conv2d
		var bias bool
		var e [6]error
		l.In, e[0] = b.positive("in_channels")
		l.Out, e[1] = b.positive("out_channels")
		l.Kernel, e[2] = b.pair("kernel_size", 1)
		l.Stride, e[3] = b.pair("stride", 1)
		bias, e[4] = b.bool("bias")
		e[5] = first(b.fixed("dilation", "1", "(1,1)"), b.fixed("groups", "1"), b.fixed("padding_mode", "'zeros'", `"zeros"`),
			b.fixed("device", "None"), b.fixed("dtype", "None"))
		if err := first(e[:]...); err != nil {
			return nil, err
		}
		l.NoBias = !bias
		if l.Padding, err = convPadding(b, l); err != nil {
			return nil, err
		}
		if l.Stride == [2]int{1, 1} {
			l.Stride = [2]int{} // one spelling for stride 1, as String writes it
		}
		return l, nil
	case "Linear":
		b, err := c.bind([]string{"in_features", "out_features", "bias", "device", "dtype"},
			map[string]string{"bias": "True", "device": "None", "dtype": "None"})
		if err != nil {
			return nil, err
		}
		var l Linear
		var bias bool
		var e [4]error
		l.In, e[0] = b.positive("in_features")
		l.Out, e[1] = b.positive("out_features")
		bias, e[2] = b.bool("bias")
		e[3] = first(b.fixed("device", "None"), b.fixed("dtype", "None"))
		l.NoBias = !bias
		return l, first(e[:]...)
	case "MaxPool2d", "AvgPool2d":
		params := []string{"kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"}
		defs := map[string]string{"stride": "None", "padding": "0", "dilation": "1", "return_indices": "False", "ceil_mode": "False"}
		if c.name == "AvgPool2d" {
			params = []string{"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}
			defs = map[string]string{"stride": "None", "padding": "0", "ceil_mode": "False", "count_include_pad": "True", "divisor_override": "None"}
		}
		b, err := c.bind(params, defs)
		if err != nil {
			return nil, err
		}
		k, err := b.pair("kernel_size", 1)
		if err != nil {
			return nil, err
		}
		var s [2]int
		if b.vals["stride"].kind != vNone {
			if s, err = b.pair("stride", 1); err != nil {
				return nil, err
			}
		}
		var fixed error
		if c.name == "MaxPool2d" {
			fixed = first(b.fixed("padding", "0", "(0,0)"), b.fixed("dilation", "1", "(1,1)"), b.fixed("return_indices", "False"), b.fixed("ceil_mode", "False"))
		} else {
			// Without padding, count_include_pad changes nothing.
			fixed = first(b.fixed("padding", "0", "(0,0)"), b.fixed("ceil_mode", "False"), b.fixed("divisor_override", "None"))
			if _, err := b.bool("count_include_pad"); err != nil {
				fixed = first(fixed, err)
			}
		}
		if fixed != nil {
			return nil, fixed
		}
		if s == k {
			s = [2]int{} // stride=None and stride=kernel_size are one pool
		}
		if c.name == "MaxPool2d" {
			return MaxPool2d{Kernel: k, Stride: s}, nil
		}
		return AvgPool2d{Kernel: k, Stride: s}, nil
	case "Flatten":
		b, err := c.bind([]string{"start_dim", "end_dim"}, map[string]string{"start_dim": "1", "end_dim": "-1"})
		if err != nil {
			return nil, err
		}
		return Flatten{}, first(b.fixed("start_dim", "1"), b.fixed("end_dim", "-1"))
	case "ReLU", "Sigmoid", "Tanh":
		params, defs := []string{}, map[string]string{}
		if c.name == "ReLU" {
			params, defs = []string{"inplace"}, map[string]string{"inplace": "False"}
		}
		b, err := c.bind(params, defs)
		if err != nil {
			return nil, err
		}
		if c.name == "ReLU" {
			// In place or not, the values are the same.
			if _, err := b.bool("inplace"); err != nil {
				return nil, err
			}
			return ReLU{}, nil
		}
		if c.name == "Sigmoid" {
			return Sigmoid{}, nil
		}
		return Tanh{}, nil
	case "ELU":
		b, err := c.bind([]string{"alpha", "inplace"}, map[string]string{"alpha": "1.0", "inplace": "False"})
		if err != nil {
			return nil, err
		}
		a, err := b.float("alpha")
		if _, e := b.bool("inplace"); err == nil {
			err = e
		}
		return ELU{Alpha: a}, err
	case "Softplus":
		b, err := c.bind([]string{"beta", "threshold"}, map[string]string{"beta": "1", "threshold": "20"})
		if err != nil {
			return nil, err
		}
		beta, e1 := b.float("beta")
		th, e2 := b.float("threshold")
		if err := first(e1, e2); err != nil {
			return nil, err
		}
		if !(beta > 0) {
			return nil, fmt.Errorf("beta must be positive, got %s", b.vals["beta"].text)
		}
		return Softplus{Beta: beta, Threshold: th}, nil
	case "LogSoftmax", "Softmax":
		b, err := c.bind([]string{"dim"}, map[string]string{"dim": "None"})
		if err != nil {
			return nil, err
		}
		if b.vals["dim"].kind == vNone {
			return nil, fmt.Errorf("give dim= (PyTorch's implicit dim is deprecated), e.g. %s(dim=1)", c.name)
		}
		d, err := b.int("dim")
		if err != nil {
			return nil, err
		}
		if c.name == "LogSoftmax" {
			return LogSoftmax{Dim: d}, nil
		}
		return Softmax{Dim: d}, nil
	case "Dropout":
		b, err := c.bind([]string{"p", "inplace"}, map[string]string{"p": "0.5", "inplace": "False"})
		if err != nil {
			return nil, err
		}
		pr, err := b.float("p")
		if err != nil {
			return nil, err
		}
		if _, err := b.bool("inplace"); err != nil {
			return nil, err
		}
		if pr < 0 || pr > 1 {
			return nil, fmt.Errorf("dropout probability has to be between 0 and 1, but got %s", b.vals["p"].text)
		}
		return Dropout{P: pr}, nil
	}
	return nil, fmt.Errorf("unknown module %q (vkneuro has %s)", c.name, strings.Join(knownModules, ", "))
}

var knownModules = []string{"Conv2d", "Linear", "MaxPool2d", "AvgPool2d", "Flatten", "ReLU", "ELU", "Sigmoid", "Tanh", "Softplus", "LogSoftmax", "Softmax", "Dropout"}

// convPadding reads Conv2d's padding: an int, a pair, 'valid' (0) or
// 'same' (stride 1 and odd kernels only: even ones need PyTorch's
// uneven padding).
func convPadding(b *binding, l Conv2d) ([2]int, error) {
	v := b.vals["padding"]
	if v.kind != vString {
		return b.pair("padding", 0)
	}
	switch v.s {
	case "valid":
		return [2]int{}, nil
	case "same":
		if l.Stride != [2]int{1, 1} {
			return [2]int{}, fmt.Errorf("padding='same' is not supported for strided convolutions, as in PyTorch")
		}
		if l.Kernel[0]%2 == 0 || l.Kernel[1]%2 == 0 {
			return [2]int{}, fmt.Errorf("padding='same' with an even kernel size %v needs uneven padding, which vkneuro does not support", l.Kernel)
		}
		return [2]int{l.Kernel[0] / 2, l.Kernel[1] / 2}, nil
	}
	return [2]int{}, fmt.Errorf("padding=%s: want an integer, a pair, 'valid' or 'same'", v.text)
}
