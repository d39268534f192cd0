package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
)

// TestMain runs main itself in a child process when VKNEURO_TEST_MAIN
// holds its arguments (TestExitCodes), else the tests (under Xvfb in
// the viewer build: testMain).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("VKNEURO_TEST_MAIN"); ok {
		os.Args = append([]string{"vkneuro"}, strings.Fields(args)...)
		main()
	}
	testMain(m)
}

// runCmd runs vkneuro with args as main would, without exiting.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// runTrain runs vkneuro train args.
func runTrain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmd(t, append([]string{"train"}, args...)...)
}

// useSharedVulkan makes the subcommands open the process's shared Vulkan
// manager (enginetest.Open) instead of a device per run.
func useSharedVulkan(t *testing.T) {
	m := enginetest.Open(t)
	oldOpen, oldClose := openEngine, closeEngine
	openEngine = func(engine.Options) (*engine.Manager, error) { return m, nil }
	closeEngine = func(*engine.Manager) error { return nil }
	t.Cleanup(func() { openEngine, closeEngine = oldOpen, oldClose })
}

// TestCommands: vkneuro lists its subcommands on help, each subcommand
// has its own -h, and an unknown or missing subcommand is a usage error.
func TestCommands(t *testing.T) {
	code, list, _ := runCmd(t, "help")
	if code != exitOK {
		t.Errorf("vkneuro help: exit %d", code)
	}
	for _, sc := range subcommands {
		if !strings.Contains(list, "vkneuro "+sc.name+" ") {
			t.Errorf("vkneuro help does not list %s:\n%s", sc.name, list)
		}
		// Each subcommand's -h says how to call it, and exits 0.
		code, _, stderr := runCmd(t, sc.name, "-h")
		if code != exitOK || !strings.Contains(stderr, "usage: vkneuro "+sc.name) || !strings.Contains(stderr, "-") {
			t.Errorf("vkneuro %s -h: exit %d, stderr %q; want 0 and its usage", sc.name, code, stderr)
		}
		code, stdout, _ := runCmd(t, "help", sc.name)
		if code != exitOK || !strings.Contains(stdout, "usage: vkneuro "+sc.name) {
			t.Errorf("vkneuro help %s: exit %d, stdout %q; want 0 and its usage", sc.name, code, stdout)
		}
	}
	if code, _, _ := runCmd(t, "--help"); code != exitOK {
		t.Errorf("vkneuro --help: exit %d, want 0", code)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"trian"}, `vkneuro: unknown command "trian"; run 'vkneuro help' for the list`},
		{[]string{"help", "trian"}, "vkneuro help trian: unknown command"},
		{[]string{"train", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"report", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"devices", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"v1sim", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		code, _, stderr := runCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("vkneuro %q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}

// TestExitCodes runs the binary's main: a bad file ends the command with
// status 1 and one line on stderr naming the file and key, not a panic;
// a bad command line with status 2.
func TestExitCodes(t *testing.T) {
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "v1.npz")
	if err := data.WriteNPZ(bad, map[string]*data.Array{"resp": {Shape: []int{4, 3}, Data: make([]float32, 12)}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   string
		code   int
		stderr string
	}{
		{"report --backend cpu --out " + filepath.Join(tmp, "out") + " --v1 " + bad, exitError,
			`report: --v1: data: ` + bad + `: missing key "stimuli" (keys present: ["resp"])` + "\n"},
		{"train decode --backend cpu --data " + bad, exitError,
			`train: data: ` + bad + `: missing key "stimuli" (keys present: ["resp"])` + "\n"},
		{"v1sim -neurons 2 -out " + filepath.Join(tmp, "missing", "v.npz"), exitError, "v1sim: data: " + filepath.Join(tmp, "missing", "v.npz") + ": open "},
		{"v1sim -neurons 0 -out " + filepath.Join(tmp, "v.npz"), exitUsage, "v1sim: -neurons 0: want at least 1\n"},
		{"report --backend gpu --out " + tmp, exitUsage, `report: --backend "gpu", want auto, vulkan or cpu (see vkneuro report -h)` + "\n"},
		{"resnet", exitUsage, `vkneuro: unknown command "resnet"; run 'vkneuro help' for the list` + "\n"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "VKNEURO_TEST_MAIN="+c.args)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != c.code {
			t.Errorf("vkneuro %s: %v, want exit status %d; stderr:\n%s", c.args, err, c.code, stderr.String())
			continue
		}
		if !strings.HasPrefix(stderr.String(), c.stderr) {
			t.Errorf("vkneuro %s: stderr %q, want %q", c.args, stderr.String(), c.stderr)
		}
	}
}
