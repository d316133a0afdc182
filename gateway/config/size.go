package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Size is a number of bytes. In a file or the environment it is a whole
// number of bytes, or a number with a binary unit ("384MiB", "1GiB"), or
// "off", which is 0.
type Size int64

var sizeType = reflect.TypeFor[Size]()

const wantSize = `must be a size such as "384MiB", "1GiB", a number of bytes, or "off"`

// sizeUnits are the suffixes ParseSize accepts, longest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// ParseSize reads a Size as the config does.
func ParseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%s", wantSize)
	}
	return Size(n * mult), nil
}

// sizeHook decodes Size fields from strings and whole numbers.
func sizeHook(_, to reflect.Type, data any) (any, error) {
	if to != sizeType {
		return data, nil
	}
	switch v := data.(type) {
	case string:
		n, err := ParseSize(v)
		if err != nil {
			// The value is not echoed: a misplaced secret must not be
			// printed.
			return nil, &hookError{wantSize}
		}
		return n, nil
	case Size, int, int64, uint64, float64:
		return data, nil
	}
	return nil, &hookError{wantSize}
}
