"""Nested structures (lists, tuples, dicts) of leaves: flatten and rebuild, as keras.tree does."""


def is_nested(x):
    return isinstance(x, (list, tuple, dict))


def flatten(structure):
    """Leaves in order; dicts are visited in sorted key order (Keras/TF convention)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_sequence_as(structure, flat):
    """Rebuild `structure`'s nesting with the leaves of `flat`."""
    flat = list(flat)
    packed, used = _pack(structure, flat, 0)
    if used != len(flat):
        raise ValueError(
            f"Structure has {used} leaves but {len(flat)} values were given to pack into it."
        )
    return packed


def _pack(structure, flat, index):
    if isinstance(structure, dict):
        out = {}
        for key in sorted(structure):
            out[key], index = _pack(structure[key], flat, index)
        return {key: out[key] for key in structure}, index
    if isinstance(structure, (list, tuple)):
        items = []
        for item in structure:
            packed, index = _pack(item, flat, index)
            items.append(packed)
        return (list(items) if isinstance(structure, list) else type(structure)(items)), index
    return flat[index], index + 1


def map_structure(fn, structure):
    return pack_sequence_as(structure, [fn(leaf) for leaf in flatten(structure)])
