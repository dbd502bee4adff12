package predict

import "gonum.org/v1/gonum/mathext"

// hyp2f1 is the Gaussian hypergeometric function 2F1(a, b; c; z), z < 1.
func hyp2f1(a, b, c, z float64) float64 {
	return mathext.Hypergeo(a, b, c, z)
}
