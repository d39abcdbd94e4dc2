// out[i] = ${op}: one thread per output element, which gathers what it needs from its
// inputs by index arithmetic (the few ops that write elsewhere write positions that never
// repeat, so no atomics). Shapes come in params.
${params}
${bindings}

${dim_fn}
${helpers}
${entry}
    let i = group * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
${body}
}
