package bench

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestLoadAvg(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		if got := LoadAvg(); got != "unknown" {
			t.Errorf("no /proc/loadavg: LoadAvg() = %q, want unknown", got)
		}
		return
	}
	f := strings.Fields(LoadAvg())
	if len(f) != 3 {
		t.Fatalf("LoadAvg() = %q, want three averages", strings.Join(f, " "))
	}
	for _, v := range f {
		if x, err := strconv.ParseFloat(v, 64); err != nil || x < 0 {
			t.Errorf("load average %q is not a non-negative number", v)
		}
	}
}
