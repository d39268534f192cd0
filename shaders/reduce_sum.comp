#version 450
// reduce_sum: partial sums. Work group g writes to out[g] the sum of the
// elements in[i], i < n, with i ≡ g*L + l (mod G*L) for its L threads l and
// G = gl_NumWorkGroups.x groups (a grid-stride loop), reduced in shared
// memory. Run once with G groups, then once with 1 group over the G partial
// sums, to get the total in out[0]. L (constant_id 0) must be a power of two.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer In { float xs[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Out { float partial[]; };

layout(push_constant) uniform Push {
    uint n;
} p;

shared float acc[gl_WorkGroupSize.x];

void main() {
    uint l = gl_LocalInvocationID.x;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    float s = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        s += xs[i];
    }
    acc[l] = s;
    barrier();
    for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
        if (l < h) {
            acc[l] += acc[l + h];
        }
        barrier();
    }
    if (l == 0) {
        partial[gl_WorkGroupID.x] = acc[0];
    }
}
