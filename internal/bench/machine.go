package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// describeMachine reports the CPU, Go, OS and store of a run.
func describeMachine(t *target) Machine {
	return Machine{CPUModel: cpuModel(), Cores: runtime.NumCPU(), GoVersion: runtime.Version(),
		Store: t.kind, StoreVersion: t.version, OS: osName()}
}

func cpuModel() string {
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return runtime.GOARCH
}

// osName is GOOS/GOARCH, the distribution and the kernel where known.
func osName() string {
	parts := []string{runtime.GOOS + "/" + runtime.GOARCH}
	if v := procField("/etc/os-release", "PRETTY_NAME"); v != "" {
		parts = append(parts, strings.Trim(v, `"`))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, "kernel "+strings.TrimSpace(string(b)))
	}
	return strings.Join(parts, ", ")
}

// procField returns the value of the first "key: value" or "key=value"
// line of a file.
func procField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			name, value, ok = strings.Cut(sc.Text(), "=")
		}
		if ok && strings.TrimSpace(name) == key {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// resetPeakRSS starts a new peak-RSS window (Linux 4.0+; ignored where
// unsupported, and then the peak is that of the whole process so far).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB is the process's peak resident set size (VmHWM) in MiB, or 0
// where /proc is unavailable.
func peakRSSMB() float64 {
	v := procField("/proc/self/status", "VmHWM")
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return 0
	}
	return kb / 1024
}
