// Float32 elementary functions to a few ulp on every Vulkan driver, for
// the shaders that #include this file. The builtins may be far less
// exact (Vulkan allows exp 3 + 2·|x| ulp, so 60 ulp at x = −30), and the
// textbook forms through exp cancel near 0 (tanh, exp(x) − 1,
// log(1 + tiny)), so these reduce the argument first or use a series
// where the builtins are weak. `precise` keeps the order of operations
// where it is what makes the result exact.

const float LOG2E = 1.44269504;
// ln 2 split so that k·LN2_HI is exact for |k| < 2^15.
const float LN2_HI = 0.693359375;
const float LN2_LO = -2.12194440e-4;

// expf is exp(x) through x = k·ln 2 + r with |r| ≤ ln 2 / 2, where the
// builtin's error bound is under 4 ulp, times 2^k formed exactly as two
// normal floats (k reaches 128). Like kernels/cpu's exp32 it returns 0
// below −87.33, where exp(x) is subnormal, and +Inf from 88.72 on.
float expf(float x) {
	if (!(x < 88.72)) {
		return x > 0.0 ? uintBitsToFloat(0x7f800000u) : x; // +Inf, or NaN
	}
	if (x < -87.33) {
		return 0.0;
	}
	const float k = round(x * LOG2E);
	precise const float r = (x - k * LN2_HI) - k * LN2_LO;
	const int e = int(k);
	const float h = uintBitsToFloat(uint((e >> 1) + 127) << 23);
	const float l = uintBitsToFloat(uint(e - (e >> 1) + 127) << 23);
	return exp(r) * h * l;
}

// expm1f is exp(x) − 1: a Taylor series below ln 2 / 2 in magnitude,
// where exp(x) − 1 would cancel (its remainder x⁹/9! is under 2⁻³⁰ of
// the result), expf(x) − 1 above.
float expm1f(float x) {
	if (!(abs(x) < 0.34657359)) {
		return expf(x) - 1.0;
	}
	return x * (1.0 + x * (1.0 / 2.0 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 +
		x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0))))))));
}

// log1pf is log(1 + u) for u ≥ 0, exact for tiny u, which 1 + u would
// round away: for u ≤ 1 the series 2·atanh(s) with s = u/(2 + u) ≤ 1/3
// (terms to s¹⁷; the next is under 2⁻³¹ of the result); the builtin log
// above, where 1 + u loses nothing that matters.
float log1pf(float u) {
	if (!(u <= 1.0)) {
		return log(1.0 + u);
	}
	const float s = u / (2.0 + u);
	const float q = s * s;
	return 2.0 * s * (1.0 + q * (1.0 / 3.0 + q * (1.0 / 5.0 + q * (1.0 / 7.0 + q * (1.0 / 9.0 +
		q * (1.0 / 11.0 + q * (1.0 / 13.0 + q * (1.0 / 15.0 + q * (1.0 / 17.0)))))))));
}

// softplusf is log(1 + exp(z)) as max(z, 0) + log1p(exp(−|z|)), which
// neither overflows for large z nor loses the tiny values of very
// negative z.
float softplusf(float z) {
	return max(z, 0.0) + log1pf(expf(-abs(z)));
}

// sigmoidf is 1/(1 + exp(−x)), as e/(1 + e) with e = exp(x) for x < 0
// so that the tiny values of very negative x keep their precision.
float sigmoidf(float x) {
	const float e = expf(-abs(x));
	const float r = 1.0 / (1.0 + e);
	return x >= 0.0 ? r : e * r;
}

// tanhf is tanh(x) = −u/(u + 2) with u = expm1(−2|x|), signed as x:
// exact near 0 (u is), and 1 for large |x| without overflow.
float tanhf(float x) {
	const float u = expm1f(-2.0 * abs(x));
	const float r = -u / (u + 2.0);
	return x < 0.0 ? -r : r;
}
