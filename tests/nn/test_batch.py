"""GraphBatch: collation offsets, constructors, device/dtype moves and PyG conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moldojo.nn.batch import GraphBatch


def graph(num_nodes: int, edges: list[tuple[int, int]], seed: int = 0, y: float | None = None):
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.tensor(edges, dtype=torch.long).reshape(-1, 2).T
    return GraphBatch.from_graph(
        torch.randn(num_nodes, 3, generator=g),
        edge_index,
        torch.randn(len(edges), 2, generator=g),
        None if y is None else torch.tensor([y]),
    )


def three_graphs() -> list[GraphBatch]:
    return [
        graph(3, [(0, 1), (1, 0), (1, 2)], seed=0, y=1.0),
        graph(1, [], seed=1, y=2.0),
        graph(2, [(1, 0)], seed=2, y=3.0),
    ]


def test_from_graph() -> None:
    x = torch.randn(4, 3)
    g = GraphBatch.from_graph(x, torch.tensor([[0, 1], [1, 2]], dtype=torch.int32), None, None)
    assert g.edge_index.dtype == torch.long
    assert g.batch.tolist() == [0, 0, 0, 0] and g.ptr.tolist() == [0, 4]
    assert (g.num_graphs, g.num_nodes, g.num_edges) == (1, 4, 2)
    assert g.edge_attr is None and g.y is None
    assert GraphBatch.from_graph(x, g.edge_index, y=torch.tensor([1.0, 2.0])).y.shape == (1, 2)


def test_collate_renumbers_nodes_and_graphs() -> None:
    graphs = three_graphs()
    b = GraphBatch.collate(graphs)
    assert (b.num_graphs, b.num_nodes, b.num_edges) == (3, 6, 4)
    assert b.edge_index.tolist() == [[0, 1, 1, 5], [1, 0, 2, 4]]
    assert b.batch.tolist() == [0, 0, 0, 1, 2, 2]
    assert b.ptr.tolist() == [0, 3, 4, 6]
    assert torch.equal(b.x, torch.cat([g.x for g in graphs]))
    assert torch.equal(b.edge_attr, torch.cat([g.edge_attr for g in graphs]))
    assert b.y.flatten().tolist() == [1.0, 2.0, 3.0]
    for k, g in enumerate(graphs):  # every graph is recovered from ptr
        assert torch.equal(b.x[b.ptr[k] : b.ptr[k + 1]], g.x)


def test_collate_of_batches_equals_collate_of_graphs() -> None:
    graphs = three_graphs() + [graph(4, [(3, 2), (0, 3)], seed=3, y=4.0)]
    nested = GraphBatch.collate([GraphBatch.collate(graphs[:2]), GraphBatch.collate(graphs[2:])])
    flat = GraphBatch.collate(graphs)
    for field in ("x", "edge_index", "batch", "ptr", "edge_attr", "y"):
        assert torch.equal(getattr(nested, field), getattr(flat, field)), field


def test_collate_errors() -> None:
    with pytest.raises(ValueError, match="empty list"):
        GraphBatch.collate([])
    a, b, _ = three_graphs()
    with pytest.raises(ValueError, match="edge_attr"):
        GraphBatch.collate([a, b.replace(edge_attr=None)])
    with pytest.raises(ValueError, match="some graphs have y"):
        GraphBatch.collate([a, b.replace(y=None)])


def test_from_arrays_derives_batch_and_casts() -> None:
    arrays = {
        "x": np.arange(12, dtype=np.float64).reshape(4, 3),
        "edge_index": np.array([[0, 3], [1, 3]], dtype=np.int32),
        "edge_attr": np.ones((2, 2), dtype=np.float64),
        "ptr": np.array([0, 2, 2, 4], dtype=np.int64),  # the middle graph is empty
        "y": None,
    }
    b = GraphBatch.from_arrays(arrays)
    assert b.x.dtype == torch.float32 and b.edge_attr.dtype == torch.float32
    assert b.edge_index.dtype == torch.long and b.ptr.dtype == torch.long
    assert b.batch.tolist() == [0, 0, 2, 2]
    assert b.num_graphs == 3 and b.y is None
    assert (
        GraphBatch.from_arrays({k: v for k, v in arrays.items() if k != "edge_attr"}).edge_attr
        is None
    )


def test_to_changes_float_dtypes_only() -> None:
    b = GraphBatch.collate(three_graphs())
    d = b.to("cpu", dtype=torch.float64)
    assert d.x.dtype == d.edge_attr.dtype == d.y.dtype == torch.float64
    assert d.edge_index.dtype == d.batch.dtype == d.ptr.dtype == torch.long
    torch.testing.assert_close(d.x.float(), b.x, atol=0, rtol=0)
    same = b.to(torch.device("cpu"))
    assert same.x.dtype == torch.float32 and torch.equal(same.edge_index, b.edge_index)


def test_replace_keeps_the_rest() -> None:
    b = GraphBatch.collate(three_graphs())
    h = torch.zeros(b.num_nodes, 8)
    r = b.replace(x=h)
    assert r.x is h and r.edge_index is b.edge_index and r.ptr is b.ptr
    assert b.x.shape == (6, 3)  # the original is unchanged


def test_pyg_round_trip() -> None:
    pytest.importorskip("torch_geometric")
    b = GraphBatch.collate(three_graphs())
    pyg = b.to_pyg()
    assert pyg.num_graphs == 3
    assert torch.equal(pyg.x, b.x) and torch.equal(pyg.edge_index, b.edge_index)
    back = GraphBatch.from_pyg(pyg)
    for field in ("x", "edge_index", "batch", "ptr", "edge_attr", "y"):
        assert torch.equal(getattr(back, field), getattr(b, field)), field


def test_from_pyg_agrees_with_collate() -> None:
    data_mod = pytest.importorskip("torch_geometric.data")
    graphs = three_graphs()
    datas = [data_mod.Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr) for g in graphs]
    from_pyg = GraphBatch.from_pyg(data_mod.Batch.from_data_list(datas))
    ours = GraphBatch.collate([g.replace(y=None) for g in graphs])
    for field in ("x", "edge_index", "batch", "ptr", "edge_attr"):
        assert torch.equal(getattr(from_pyg, field), getattr(ours, field)), field
    single = GraphBatch.from_pyg(datas[0])
    assert single.ptr.tolist() == [0, 3] and single.batch.tolist() == [0, 0, 0]
    # a PyG object with batch but no ptr: ptr is rebuilt from the batch vector
    no_ptr = data_mod.Data(x=ours.x, edge_index=ours.edge_index, batch=ours.batch)
    assert GraphBatch.from_pyg(no_ptr).ptr.tolist() == [0, 3, 4, 6]


def test_from_pyg_gives_graph_level_y_the_same_shape_for_one_graph_or_many() -> None:
    pyg_data = pytest.importorskip("torch_geometric.data")
    # Given PyG's usual graph-level target [1, T]
    data = pyg_data.Data(
        x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([[1.0, 2.0]])
    )
    # When converted alone and as a batch of two, Then y is [B, T] both times
    assert GraphBatch.from_pyg(data).y.shape == (1, 2)
    assert GraphBatch.from_pyg(pyg_data.Batch.from_data_list([data, data])).y.shape == (2, 2)
