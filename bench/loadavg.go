package bench

import (
	"os"
	"strings"
)

// LoadAvg is the 1-, 5- and 15-minute load averages from /proc/loadavg
// ("unknown" where there is none): a benchmark section records them at
// its start and end, since a busy machine moves every number.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
