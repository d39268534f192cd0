// Package viewertest holds what the tests of the viewer and of programs
// that show it share: running the test binary under a virtual X server,
// and checking the pixels of a screenshot.
//
// It does not import viewer, so that viewer's own tests can use it.
package viewertest
