package tasks

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/models"
)

// Metrics are the per-step training losses of a metrics CSV and, where
// it has a test_loss column (train --eval-every), the steps evaluated and
// their test losses.
type Metrics struct {
	Loss      []float64 // Loss[i] is step i+1's
	TestSteps []int
	TestLoss  []float64
}

// ReadLosses reads the per-step losses of a metrics CSV as train
// --metrics writes it (models.MetricsHeader: step,loss,epoch), or any CSV
// whose header names a "loss" column. A diverged run's NaN and ±Inf read
// as such; an unreadable value is an error naming the file and line.
func ReadLosses(path string) ([]float64, error) {
	m, err := ReadMetrics(path)
	return m.Loss, err
}

// ParseLosses is ReadLosses of r; name is the file in errors.
func ParseLosses(name string, r io.Reader) ([]float64, error) {
	m, err := ParseMetrics(name, r)
	return m.Loss, err
}

// ReadMetrics reads a metrics CSV as ReadLosses does, with the test_loss
// column when there is one (models.MetricsHeaderTest; empty on the steps
// not evaluated).
func ReadMetrics(path string) (Metrics, error) {
	f, err := os.Open(path)
	if err != nil {
		return Metrics{}, err
	}
	defer f.Close()
	return ParseMetrics(path, bufio.NewReader(f))
}

// ParseMetrics is ReadMetrics of r; name is the file in errors.
func ParseMetrics(name string, r io.Reader) (Metrics, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return Metrics{}, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	column := func(name string) int {
		return slices.IndexFunc(head, func(h string) bool { return strings.TrimSpace(h) == name })
	}
	col, testCol, stepCol := column("loss"), column("test_loss"), column("step")
	if col < 0 {
		return Metrics{}, fmt.Errorf("%s: header %q has no \"loss\" column (want %q)", name, strings.Join(head, ","), strings.TrimSpace(models.MetricsHeader))
	}
	var m Metrics
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return Metrics{}, fmt.Errorf("%s: %w", name, err)
		}
		if col >= len(rec) {
			return Metrics{}, fmt.Errorf("%s: line %d has %d fields, no loss column %d", name, line, len(rec), col+1)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[col]), 64)
		if err != nil {
			return Metrics{}, fmt.Errorf("%s: line %d: loss %q is not a number", name, line, rec[col])
		}
		m.Loss = append(m.Loss, v)
		if testCol < 0 || testCol >= len(rec) || strings.TrimSpace(rec[testCol]) == "" {
			continue
		}
		tl, err := strconv.ParseFloat(strings.TrimSpace(rec[testCol]), 64)
		if err != nil {
			return Metrics{}, fmt.Errorf("%s: line %d: test_loss %q is not a number", name, line, rec[testCol])
		}
		step := len(m.Loss)
		if stepCol >= 0 && stepCol < len(rec) {
			if step, err = strconv.Atoi(strings.TrimSpace(rec[stepCol])); err != nil {
				return Metrics{}, fmt.Errorf("%s: line %d: step %q is not an integer", name, line, rec[stepCol])
			}
		}
		m.TestSteps, m.TestLoss = append(m.TestSteps, step), append(m.TestLoss, tl)
	}
}
