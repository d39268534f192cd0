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

// ReadLosses reads the per-step losses of a metrics CSV as train
// --metrics writes it (models.MetricsHeader: step,loss,epoch), or any CSV
// whose header names a "loss" column. A diverged run's NaN and ±Inf read
// as such; an unreadable value is an error naming the file and line.
func ReadLosses(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseLosses(path, bufio.NewReader(f))
}

// ParseLosses is ReadLosses of r; name is the file in errors.
func ParseLosses(name string, r io.Reader) ([]float64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	col := slices.IndexFunc(head, func(h string) bool { return strings.TrimSpace(h) == "loss" })
	if col < 0 {
		return nil, fmt.Errorf("%s: header %q has no \"loss\" column (want %q)", name, strings.Join(head, ","), strings.TrimSpace(models.MetricsHeader))
	}
	var losses []float64
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return losses, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if col >= len(rec) {
			return nil, fmt.Errorf("%s: line %d has %d fields, no loss column %d", name, line, len(rec), col+1)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[col]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: loss %q is not a number", name, line, rec[col])
		}
		losses = append(losses, v)
	}
}
