// out[i] = body(a, b, c): unary, binary, where, clip, cast, fill, copy (transpose, broadcast).
// Inputs are read contiguously, as one scalar, or through strides (0 where broadcast).
${params}
${bindings}

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}
${helpers}
${entry}
    let i = group * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
${index}${loads}    out[i] = ${body};
}
