package gpu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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

// FetchLive asks the server at baseURL what its models are doing now (GET baseURL/models, which
// StatusHandler serves).
func FetchLive(ctx context.Context, baseURL string) (LiveReport, error) {
	base := strings.TrimSuffix(baseURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/models", nil)
	if err != nil {
		return LiveReport{}, fmt.Errorf("ask %s: %w", baseURL, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return LiveReport{}, fmt.Errorf("ask %s: %w", baseURL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return LiveReport{}, fmt.Errorf("ask %s: %w", baseURL, err)
	}
	if res.StatusCode != http.StatusOK {
		return LiveReport{}, fmt.Errorf("%s/models: HTTP %d: %s", base, res.StatusCode, strings.TrimSpace(string(body)))
	}
	var live LiveReport
	if err := json.Unmarshal(body, &live); err != nil {
		return LiveReport{}, fmt.Errorf("%s/models is not a model report: %w", base, err)
	}
	return live, nil
}
