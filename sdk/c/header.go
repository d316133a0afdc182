package c

import _ "embed"

//go:embed gw.h
var header []byte

// HeaderName is the file name C plugins include.
const HeaderName = "gw.h"

// Header returns the contents of gw.h.
func Header() []byte { return append([]byte(nil), header...) }
