#version 450
// The live viewer's frame: conv filters as grey tiles (0.5 is zero, scaled
// by max|w|), the feature maps of sample 0 as false-colour tiles (each
// channel scaled to its own range) and the loss history as a line plot.
// One invocation per pixel; the ranges come from viewer_stats.comp, run
// just before, and viewer_text.comp writes the text over the result.
layout(local_size_x = 16, local_size_y = 16) in;

layout(set = 0, binding = 0, rgba8) uniform writeonly image2D img;
layout(std430, set = 0, binding = 1) readonly buffer Filters { float filt[]; };
layout(std430, set = 0, binding = 2) readonly buffer Maps { float maps[]; };
layout(std430, set = 0, binding = 3) readonly buffer Loss { float loss[]; };
layout(std430, set = 0, binding = 4) readonly buffer Stats { float stats[]; };

// The push block is shared with the other viewer_*.comp (one layout).
layout(push_constant) uniform Push {
    uint W, H;                          // image size
    uint fO, fC, fKH, fKW;              // filters shown: O×C tiles of KH×KW
    uint fCols, fCellW, fCellH, fX, fY; // filter grid: columns, cell size, origin
    uint mC, mH, mW;                    // feature maps of sample 0: C×H×W
    uint mCols, mCellW, mCellH, mX, mY; // map grid
    uint lN, lX, lY, lW, lH;            // loss history length and panel
    uint tLines;                        // lines of text
};

const vec3 BACKGROUND = vec3(0.07, 0.07, 0.09);
const vec3 GAP = vec3(0.16, 0.16, 0.2);
const vec3 CURVE = vec3(1.0, 0.72, 0.15);
const vec3 GRID = vec3(0.22, 0.22, 0.27);
const vec3 FRAME = vec3(0.5, 0.5, 0.55);

// ramp maps 0..1 through dark blue, teal and yellow.
vec3 ramp(float t) {
    t = clamp(t, 0.0, 1.0);
    vec3 a = vec3(0.05, 0.03, 0.35), b = vec3(0.1, 0.6, 0.55), c = vec3(0.98, 0.9, 0.15);
    return t < 0.5 ? mix(a, b, 2.0 * t) : mix(b, c, 2.0 * t - 1.0);
}

// tile finds the cell of a grid at origin (ox, oy) holding p; false if p
// is outside the first n cells or on the 1-pixel gap between cells.
bool tile(uvec2 p, uint ox, uint oy, uint cols, uint cw, uint ch, uint n, out uint idx, out vec2 frac) {
    if (n == 0u || cw < 2u || ch < 2u || p.x < ox || p.y < oy) return false;
    uint dx = p.x - ox, dy = p.y - oy;
    uint col = dx / cw, row = dy / ch;
    if (col >= cols) return false;
    idx = row * cols + col;
    if (idx >= n) return false;
    uint ix = dx % cw, iy = dy % ch;
    if (ix == cw - 1u || iy == ch - 1u) return false;
    frac = vec2(float(ix) / float(cw - 1u), float(iy) / float(ch - 1u));
    return true;
}

bool inGrid(uvec2 p, uint ox, uint oy, uint cols, uint cw, uint ch, uint n) {
    uint rows = (n + cols - 1u) / cols;
    return n > 0u && p.x >= ox && p.y >= oy && p.x < ox + cols * cw && p.y < oy + rows * ch;
}

// lossY is the pixel row of the loss curve at panel column x.
float lossY(uint x) {
    float f = float(x) * float(lN - 1u) / float(max(lW, 2u) - 1u);
    uint i = min(uint(f), lN - 1u);
    uint j = min(i + 1u, lN - 1u);
    float v = mix(loss[i], loss[j], f - float(i));
    float lo = stats[2], hi = stats[3];
    float u = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    if (isnan(u)) u = 1.0; // a NaN loss shows at the top
    u = clamp(u, 0.0, 1.0);
    return float(lY + 2u) + (1.0 - u) * float(lH - 5u);
}

void main() {
    uvec2 p = gl_GlobalInvocationID.xy;
    if (p.x >= W || p.y >= H) return;
    vec3 c = BACKGROUND;
    uint idx;
    vec2 fr;
    if (inGrid(p, fX, fY, fCols, fCellW, fCellH, fO * fC)) {
        c = GAP;
        if (tile(p, fX, fY, fCols, fCellW, fCellH, fO * fC, idx, fr)) {
            uint ky = min(uint(fr.y * float(fKH)), fKH - 1u);
            uint kx = min(uint(fr.x * float(fKW)), fKW - 1u);
            float w = filt[(idx * fKH + ky) * fKW + kx]; // idx = o*C + c
            float a = stats[0];
            c = vec3(a > 0.0 ? 0.5 + 0.5 * w / a : 0.5);
        }
    } else if (inGrid(p, mX, mY, mCols, mCellW, mCellH, mC)) {
        c = GAP;
        if (tile(p, mX, mY, mCols, mCellW, mCellH, mC, idx, fr)) {
            uint y = min(uint(fr.y * float(mH)), mH - 1u);
            uint x = min(uint(fr.x * float(mW)), mW - 1u);
            float v = maps[(idx * mH + y) * mW + x];
            float lo = stats[4u + 2u * idx], hi = stats[5u + 2u * idx];
            c = ramp(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        }
    } else if (lW >= 8u && lH >= 8u && p.x >= lX && p.y >= lY && p.x < lX + lW && p.y < lY + lH) {
        uint x = p.x - lX, y = p.y - lY;
        if (x == 0u || y == 0u || x == lW - 1u || y == lH - 1u) {
            c = FRAME;
        } else {
            c = vec3(0.1, 0.1, 0.12);
            if (y == lH / 4u || y == lH / 2u || y == 3u * lH / 4u) c = GRID;
            if (lN >= 1u) {
                float y0 = lossY(x), y1 = lossY(min(x + 1u, lW - 1u));
                float py = float(p.y);
                if (py >= min(y0, y1) - 1.0 && py <= max(y0, y1) + 1.0) c = CURVE;
            }
        }
    }
    imageStore(img, ivec2(p), vec4(c, 1.0));
}
