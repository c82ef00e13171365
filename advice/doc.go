// Package advice is the request path: legal check, similar questions, similar precedents,
// statute ranking, answer and citation check — one file per stage over a shared request.
package advice
