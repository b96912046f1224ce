package sqlstore

import (
	"encoding/base64"
	"strings"

	"github.com/stepgate/stepgate/storage"
)

// A cursor is the position after the last row of a page: its sort key,
// prefixed with the kind of list and encoded base64url, so that it is opaque
// to callers and one list's cursor is refused by another.
func encodeCursor(kind string, key ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + strings.Join(key, "\x00")))
}

var errBadCursor = &storage.FieldError{Field: "cursor", Reason: "is not a cursor this list handed out"}

// decodeCursor returns the n key parts of a cursor of kind; ok is false for
// the empty cursor (the first page).
func decodeCursor(kind, cursor string, n int) (key []string, ok bool, err error) {
	if cursor == "" {
		return nil, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, false, errBadCursor
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != n+1 || parts[0] != kind {
		return nil, false, errBadCursor
	}
	return parts[1:], true, nil
}

// where collects the conditions of a filtered query and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// sql is " WHERE a AND b", or "" without conditions.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likeEscaper makes a search term match literally inside LIKE … ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern is the LIKE pattern for "contains s".
func containsPattern(s string) string { return "%" + likeEscaper.Replace(s) + "%" }
