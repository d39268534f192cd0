package models_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/models"
)

// A network of one's own: the layers of a PyTorch nn.Sequential, trained
// with Adam under a cosine schedule and an L2 penalty on the first
// weight, on any backend (here the CPU).
func Example() {
	be := cpu.New()
	defer be.Close()

	// The same text as nn.Sequential(...)'s arguments in PyTorch; or
	// build []models.Layer{models.Conv2d{...}, models.ReLU{}, ...} in Go.
	layers, err := models.ParseArch("Conv2d(1, 4, 3, padding=1), ELU(), AvgPool2d(2), Flatten(), Linear(64, 16), Tanh(), Linear(16, 1), Sigmoid()")
	if err != nil {
		log.Fatal(err)
	}
	net, err := models.New(be, models.Sequential{Input: []int{1, 8, 8}, Layers: layers, Loss: models.BCE, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer net.Close()
	for _, p := range net.Params() {
		fmt.Println(p.Name, p.Shape) // nn.Sequential's state_dict keys
	}

	err = net.SetTraining(models.Training{
		Optimizer: models.Adam(1e-2),
		Penalties: []models.Penalty{{Param: "0.weight", L2: 1e-4}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// 64 images of a bright left or right half, labelled by side.
	const S = 64
	d := models.Dataset{X: make([]float32, S*64), T: make([]float32, S), S: S}
	for s := 0; s < S; s++ {
		right := s%2 == 1
		for i := 0; i < 64; i++ {
			if (i%8 >= 4) == right {
				d.X[s*64+i] = 1 + float32(math.Sin(float64(s*64+i)))/4
			}
		}
		if right {
			d.T[s] = 1
		}
	}
	var first, last float32
	tr, err := models.NewTrainer(net, d, models.TrainConfig{
		Steps: 60, Batch: 16, Seed: 1, Schedule: models.CosineAnnealingLR(15, 1e-4),
		Progress: func(step int, loss float32) {
			if step == 1 {
				first = loss
			}
			last = loss
		}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	ev, err := net.Evaluate(d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loss fell %v, accuracy %.2f\n", last < first/4, ev.Accuracy)
	// Output:
	// 0.weight [4 1 3 3]
	// 0.bias [4]
	// 4.weight [16 64]
	// 4.bias [16]
	// 6.weight [1 16]
	// 6.bias [1]
	// loss fell true, accuracy 1.00
}
