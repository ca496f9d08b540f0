package viber

import (
	"encoding/json"
	"strconv"
	"strings"
)

// jobj is a JSON object read leniently: a field of an unexpected type reads
// as empty instead of failing the whole document. Numbers are kept as their
// literal text, never decoded through float64.
type jobj map[string]json.RawMessage

// object decodes raw as a JSON object, or nil.
func object(raw []byte) jobj {
	var o jobj
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// str is a string field, or the literal text of a number field.
func (o jobj) str(k string) string {
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

func (o jobj) obj(k string) jobj {
	if raw, ok := o[k]; ok {
		return object(raw)
	}
	return nil
}

// id is an integer field (a JSON number or a string of digits) as its
// decimal text: "" when it is anything else. Ids larger than 2^53 stay exact.
func (o jobj) id(k string) string {
	s := strings.TrimSpace(o.str(k))
	if s == "" || len(s) > 20 {
		return ""
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" {
		return ""
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return s
}

// integer is an integer field that fits an int64.
func (o jobj) integer(k string) (int64, bool) {
	n, err := strconv.ParseInt(o.id(k), 10, 64)
	return n, err == nil
}

// number is a numeric field (or a numeric string) as decimal text without
// an exponent.
func (o jobj) number(k string) (string, bool) {
	s := strings.TrimSpace(o.str(k))
	if s == "" || len(s) > 40 {
		return "", false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", false
	}
	if strings.ContainsAny(s, "eE+") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "-.") ||
		strings.ContainsFunc(s, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.' || r == '-') }) {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s, true
}
