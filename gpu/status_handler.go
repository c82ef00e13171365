package gpu

import (
	"encoding/json"
	"net/http"
)

// LiveReport is what a running server's models are doing now (GET /models).
type LiveReport struct {
	Models      []ModelStatus `json:"models"`
	UsedBytes   int64         `json:"used_bytes"`
	BudgetBytes int64         `json:"budget_bytes"` // 0: unbounded
}

// Live reports the models and the budget now.
func (m *Manager) Live() LiveReport {
	used, budget := m.Usage()
	return LiveReport{Models: m.Status(), UsedBytes: used, BudgetBytes: budget}
}

// StatusHandler serves the manager's LiveReport as JSON; manager returns nil while the
// models load (503 with a coded error then).
func StatusHandler(manager func() *Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		m := manager()
		if m == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
				"message": "the models are still loading", "extensions": map[string]string{"code": "UNAVAILABLE"}}}})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m.Live())
	})
}
