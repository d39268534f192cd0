#version 450
// The engine's test kernel for storage-image bindings (image_test.go).
// Mode 0 writes texel (x, y) = (x, y, v[0], 255) / 255, so the buffer at
// binding 1 is read too; mode 1 reads every texel back into v as
// r + 256 g + 65536 b, exact in float32; mode 2 writes red v[y W + x],
// opaque black otherwise.
layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0, rgba8) uniform image2D img;
layout(std430, set = 0, binding = 1) buffer V { float v[]; };

layout(push_constant) uniform Push {
    uint W, H, mode;
};

void main() {
    uvec2 p = gl_GlobalInvocationID.xy;
    if (p.x >= W || p.y >= H) return;
    if (mode == 0u) {
        imageStore(img, ivec2(p), vec4(float(p.x), float(p.y), v[0], 255.0) / 255.0);
    } else if (mode == 2u) {
        imageStore(img, ivec2(p), vec4(v[p.y * W + p.x], 0.0, 0.0, 255.0) / 255.0);
    } else {
        vec4 c = round(imageLoad(img, ivec2(p)) * 255.0);
        v[p.y * W + p.x] = c.r + 256.0 * c.g + 65536.0 * c.b;
    }
}
