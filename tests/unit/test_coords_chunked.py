"""coords.TableCrs decides from per-chunk counts what coords.table_crs decides on whole columns."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from renewal_planner.layers.importer import coords

# eastings / northings of CGCS2000 3-degree zones (EPSG:4547 is zone 39 without prefix, CM 114E)
_E = st.one_of(st.floats(380000, 620000), st.floats(38_380_000, 38_620_000), st.floats(39_380_000, 39_620_000),
               st.floats(40_380_000, 40_620_000), st.floats(-1e3, 1e9), st.just(float("nan")))
_N = st.one_of(st.floats(2_500_000, 4_500_000), st.floats(-1e3, 1e9), st.just(float("nan")))


def _whole(e, n, crs_in):
    have = np.isfinite(e) & np.isfinite(n)
    if not have.any():
        return False, crs_in, []
    e1 = e[have]
    e2, _, used, notes = coords.table_crs(e1, n[have], crs_in)
    return e2 is not e1, used, notes


def _chunked(e, n, crs_in, size):
    t = coords.TableCrs(crs_in)
    for i in range(0, len(e), size):
        a, b = e[i:i + size], n[i:i + size]
        have = np.isfinite(a) & np.isfinite(b)
        t.add(a[have], b[have])
    return t.decide()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_E, _N, st.booleans()), min_size=1, max_size=40), st.integers(1, 7),
       st.sampled_from(["EPSG:4547", "EPSG:4528", "EPSG:4490"]))
def test_chunked_decision_equals_whole_columns(rows, size, crs_in):
    e = np.array([r[0] if not r[2] else r[1] for r in rows])   # some rows have X/Y the other way round
    n = np.array([r[1] if not r[2] else r[0] for r in rows])
    assert _chunked(e, n, crs_in, size) == _whole(e, n, crs_in)


def test_hand_made_cases():
    # X = northing, Y = easting with the zone-39 prefix: read in the prefixed CRS, not swapped
    e = np.array([39_500_000.0, 39_500_100.0, 38_500_000.0])
    n = np.array([3_400_000.0, 3_400_100.0, 3_400_200.0])
    swapped, used, notes = _chunked(e, n, "EPSG:4547", 1)
    assert (swapped, used) == _whole(e, n, "EPSG:4547")[:2]
    assert swapped is False and "zone prefix" in notes[-1]
    # the same table with the columns the other way round
    assert _chunked(n, e, "EPSG:4547", 2)[0] is True


def test_one_point_transforms_as_arrays_without_numpy_deprecation():
    """A chunk or geometry of one point: the same numbers as in a longer array, returned as
    arrays, and no 'conversion of an array with ndim > 0 to a scalar' (an error in a future numpy)."""
    import warnings

    import shapely

    x, y = np.array([501500.0, 512345.5]), np.array([3379500.0, 3380123.25])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = coords.transform(x, y, "EPSG:4547", "EPSG:4326")
        one = coords.transform(x[:1], y[:1], "EPSG:4547", "EPSG:4326")
        inside = coords.inside_area(x[:1], y[:1], "EPSG:4547")
        moved, _ = coords.geometry_to_project(np.array([shapely.Point(114.0, 30.5)], dtype=object),
                                              "EPSG:4326", "EPSG:4547")
    assert isinstance(one[0], np.ndarray) and one[0].shape == (1,)
    assert (one[0][0], one[1][0]) == (both[0][0], both[1][0])
    assert inside.tolist() == [True]
    assert 400000 < moved[0].x < 600000
