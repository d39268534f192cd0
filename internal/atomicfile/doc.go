// Package atomicfile writes files atomically: readers of the path see the
// old content or the complete new content, never a partial file.
//
// The content goes to a temporary file in the destination's directory
// (so the rename cannot cross file systems), which is synced, closed,
// given its permissions and renamed over the path; the directory is then
// synced so the rename itself survives a crash. On any error the
// temporary file is removed and the path is left as it was.
package atomicfile
