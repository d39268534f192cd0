// Package enginetest opens the Vulkan engine for tests: it skips (or, in
// CI, fails) when Vulkan is missing and fails a test that caused
// validation-layer errors.
package enginetest
