package meta

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Object is a JSON object read leniently: a field of an unexpected type
// reads as empty instead of failing the whole document.
type Object map[string]json.RawMessage

// ParseObject decodes raw as a JSON object, or nil.
func ParseObject(raw []byte) Object {
	var o Object
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// Str is a string field, or the literal text of a number field (big ids
// stay exact: they never pass through float64).
func (o Object) Str(k string) string {
	raw, ok := o[k]
	if !ok || len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// Has says whether the field is present (even as null).
func (o Object) Has(k string) bool {
	_, ok := o[k]
	return ok
}

// HasValue says whether the field is present and not null.
func (o Object) HasValue(k string) bool {
	raw, ok := o[k]
	return ok && string(raw) != "null"
}

// Obj is an object field, or nil.
func (o Object) Obj(k string) Object {
	if raw, ok := o[k]; ok {
		return ParseObject(raw)
	}
	return nil
}

// Arr is an array field, or nil.
func (o Object) Arr(k string) []json.RawMessage {
	var a []json.RawMessage
	if raw, ok := o[k]; ok && json.Unmarshal(raw, &a) == nil {
		return a
	}
	return nil
}

// Bool is a boolean field, or the string "true".
func (o Object) Bool(k string) bool {
	var b bool
	if raw, ok := o[k]; ok && json.Unmarshal(raw, &b) == nil {
		return b
	}
	return o.Str(k) == "true"
}

// Number is a numeric field (or a numeric string) as its literal text.
func (o Object) Number(k string) (string, bool) {
	s := strings.TrimSpace(o.Str(k))
	if s == "" {
		return "", false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "", false
	}
	return s, true
}
