package gpu_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
)

// sized stands for a loaded model: a TensorFlow session, an LSA matrix.
type sized int64

func (s sized) Bytes() int64 { return int64(s) }
func (sized) Close() error   { return nil }

func loader(n int64) func(context.Context) (gpu.Model, error) {
	return func(context.Context) (gpu.Model, error) { return sized(n), nil }
}

// The encoder is used on every request, so it stays resident; the LSA embedding is loaded when
// asked for and released after a minute unused.
func ExampleManager() {
	m := gpu.NewManager(gpu.Options{BudgetBytes: 1 << 30, IdleTimeout: time.Minute})
	defer m.Close()
	m.Register(gpu.Spec{Name: "encoder", Backend: gpu.BackendTensorFlow, Resident: true, Bytes: 600 << 20, Load: loader(600 << 20)})
	m.Register(gpu.Spec{Name: "lsa", Backend: gpu.BackendGo, Bytes: 300 << 20, Load: loader(300 << 20)})
	if err := m.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	model, release, err := m.Acquire(context.Background(), "lsa")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("lsa holds", model.Bytes()>>20, "MiB")
	release()

	m.Register(gpu.Spec{Name: "reranker", Bytes: 200 << 20, Load: loader(200 << 20)})
	_, _, err = m.Acquire(context.Background(), "reranker")
	fmt.Println(gpu.CodeOf(err) == "", "(the idle lsa was evicted to make room)")
	for _, s := range m.Status() {
		fmt.Printf("%-8s %-10s resident=%-5v loaded=%v\n", s.Name, s.Backend, s.Resident, s.Loaded)
	}
	// Output:
	// lsa holds 300 MiB
	// true (the idle lsa was evicted to make room)
	// encoder  tensorflow resident=true  loaded=true
	// lsa      go         resident=false loaded=false
	// reranker            resident=false loaded=true
}
