// Package c carries the C SDK's single header, gw.h, for Go tools: the
// gateway's plugin build offers it to clang when a project has no copy of
// its own, and `gateway plugin new --lang c` writes it into new projects.
// C plugin authors use gw.h directly (see README.md); nothing here is
// needed to write a C plugin.
package c
