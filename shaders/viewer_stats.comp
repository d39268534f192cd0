#version 450
// Statistics the live viewer normalises by (see viewer_draw.comp): work
// group 0 finds max|w| of the conv filters and the loss history's range,
// work group 1+c the range of feature-map channel c of sample 0.
// stats: [0] max|filter|, [1] unused, [2] loss min, [3] loss max,
// [4+2c] map c min, [5+2c] map c max.
layout(local_size_x = 256) in;

layout(std430, set = 0, binding = 1) readonly buffer Filters { float filt[]; };
layout(std430, set = 0, binding = 2) readonly buffer Maps { float maps[]; };
layout(std430, set = 0, binding = 3) readonly buffer Loss { float loss[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Stats { float stats[]; };

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

shared float smin[256];
shared float smax[256];

void reduce(uint t) {
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) {
            smin[t] = min(smin[t], smin[t + s]);
            smax[t] = max(smax[t], smax[t + s]);
        }
        barrier();
    }
}

void main() {
    uint t = gl_LocalInvocationID.x;
    uint g = gl_WorkGroupID.x;
    if (g == 0u) {
        float a = 0.0;
        uint nf = fO * fC * fKH * fKW;
        for (uint i = t; i < nf; i += 256u) {
            a = max(a, abs(filt[i]));
        }
        float lo = 3.0e38, hi = -3.0e38;
        for (uint i = t; i < lN; i += 256u) {
            float v = loss[i];
            if (!isnan(v) && !isinf(v)) {
                lo = min(lo, v);
                hi = max(hi, v);
            }
        }
        smin[t] = lo;
        smax[t] = a;
        reduce(t);
        float fmax = smax[0];
        float lmin = smin[0];
        barrier();
        smin[t] = -hi;
        smax[t] = 0.0;
        reduce(t);
        if (t == 0u) {
            stats[0] = fmax;
            stats[1] = 0.0;
            stats[2] = lmin;
            stats[3] = -smin[0];
        }
        return;
    }
    uint c = g - 1u;
    uint n = mH * mW;
    float lo = 3.0e38, hi = -3.0e38;
    for (uint i = t; i < n; i += 256u) {
        float v = maps[c * n + i];
        lo = min(lo, v);
        hi = max(hi, v);
    }
    smin[t] = lo;
    smax[t] = hi;
    reduce(t);
    if (t == 0u) {
        stats[4u + 2u * c] = smin[0];
        stats[5u + 2u * c] = smax[0];
    }
}
