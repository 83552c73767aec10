"""The hierarchical motif VAE as a molecule generator: SMILES in, SMILES out.

Decoding runs all molecules of a batch together: each step is one pass of the decoder's networks
over every molecule still decoding, and the stack bookkeeping (which motif is on top, which of
its attachment atoms are still open, hydrogens left on each atom) is plain Python per molecule.
Every merge keeps valences, so decoded molecules are valid by construction; assembly is still
checked (:func:`~moldojo.chem.motifs.tree_graph`) and any failure counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from rdkit import Chem
from torch import Tensor

from moldojo.chem import GraphConfig, graph_to_smiles, parse_smiles
from moldojo.chem.motifs import MotifNode, MotifTree, decompose, tree_graph
from moldojo.chem.smiles import quiet_rdkit
from moldojo.data.features import ranges
from moldojo.data.parallel import pmap
from moldojo.errors import InvalidMoleculeError, InvalidSmilesError
from moldojo.models.generator import Generator
from moldojo.models.hier.config import HierConfig
from moldojo.models.hier.network import HierBatch, HierVAE
from moldojo.models.hier.records import (
    MotifTables,
    RecordPack,
    ancestry_edges,
    atom_features,
    partial_ball,
    tree_record,
)

__all__ = ["HierGenerator", "build_hier", "make_records", "to_batch"]


def build_hier(config: HierConfig, tables: MotifTables) -> HierVAE:
    """A fresh :class:`HierVAE` sized for ``tables``."""
    return HierVAE(
        config,
        num_motifs=tables.num_motifs,
        config_motif=tables.config_motif.tolist(),
        atom_dim=tables.num_atom_types + atom_features(np.zeros(0, int), np.zeros(0, int),
                                                       np.zeros(0, bool), 0).shape[1],
    )  # fmt: skip


# -- records and batches -------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}  # what forked workers read: tables, graph config, edge kind


def _record(smiles: str) -> dict[str, np.ndarray] | str:
    """One molecule's record, or the reason it has none."""
    tables, graph_config = _WORKER["tables"], _WORKER["graph"]
    try:
        mol = parse_smiles(smiles, graph_config)
        mol = Chem.MolFromSmiles(Chem.MolToSmiles(mol))  # canonical atom order: canonical tree
        tree = decompose(mol, tables)
    except (InvalidSmilesError, InvalidMoleculeError):
        return "invalid_input"
    if tree.unknown:
        return "unknown_motif"
    record = tree_record(tree, tables, _WORKER["edges"], _WORKER["radius"])
    return "unknown_motif" if record is None else record


def make_records(
    smiles: Sequence[str],
    tables: MotifTables,
    graph_config: GraphConfig,
    config: HierConfig,
    *,
    jobs: int = 1,
    progress: bool | None = False,
) -> list[dict[str, np.ndarray] | str]:
    """:func:`~moldojo.models.hier.records.tree_record` of every SMILES (canonical tree) for a
    model of ``config``, or why not: ``"invalid_input"`` or ``"unknown_motif"`` (a motif
    outside the vocabulary)."""
    _WORKER.update(tables=tables, graph=graph_config, edges=config.motif_edges,
                   radius=config.radius)  # fmt: skip
    return pmap(_record, list(smiles), jobs=jobs, chunk_size=200,
                description="motif trees", progress=progress)  # fmt: skip


def to_batch(pack: RecordPack, indices: np.ndarray, tables: MotifTables) -> HierBatch:
    """The batch of molecules ``indices`` of ``pack``: collated records, atom features, the
    configuration candidates of every motif to predict and the decoder's atom graph (partial
    molecules, then the child configurations' graphs)."""
    a = pack.collate(indices)
    n = len(indices)
    t = tables.num_atom_types
    a["atom_x"] = atom_features(a["atom_type"], a["atom_hs"], a["atom_attach"], t)
    a["root"] = np.flatnonzero(a["parent"] < 0)
    target = np.concatenate([a["root"], a["ce_child"]])
    motif = a["motif_id"][target]
    sizes = tables.motif_ptr[motif + 1] - tables.motif_ptr[motif]
    a["config_candidates"] = ranges(tables.motif_ptr[motif], sizes)
    a["config_row"] = np.repeat(np.arange(len(target)), sizes)
    # decoder atom graph: partial molecules, then the configuration graphs of the children
    pm = a["pm_atom"]
    x_pm = atom_features(a["atom_type"][pm], a["pm_hs"], a["atom_attach"][pm], t)
    configs = np.unique(a["config_id"][a["ce_child"]])
    graph = tables.config_graph(configs)
    x_cfg = atom_features(graph["type"], graph["hs"], graph["attach"], t)
    shift = len(pm)
    a["dec_x"] = np.concatenate([x_pm, x_cfg])
    a["dec_src"] = np.concatenate([a["pm_src"], graph["src"] + shift])
    a["dec_dst"] = np.concatenate([a["pm_dst"], graph["dst"] + shift])
    a["dec_order"] = np.concatenate([a["pm_order"], graph["order"]])
    a["pair_child_row"] = shift + np.searchsorted(graph["atom"], a["pair_child"])
    return HierBatch({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in a.items()}, n)


# -- decoding state ------------------------------------------------------------------------------


@dataclass
class _Partial:
    """One molecule being decoded."""

    motif: list[int] = field(default_factory=list)
    config: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    parent_pos: list[int] = field(default_factory=list)
    attach_pos: list[int] = field(default_factory=list)
    node_atoms: list[list[int]] = field(default_factory=list)
    open: list[set[int]] = field(default_factory=list)  # attachment positions not merged yet
    atom_type: list[int] = field(default_factory=list)
    atom_hs: list[int] = field(default_factory=list)  # hydrogens left
    atom_attach: list[bool] = field(default_factory=list)
    bonds: list[tuple[int, int, int]] = field(default_factory=list)
    stack: list[int] = field(default_factory=list)

    def add(self, tables: MotifTables, config: int, parent: int = -1, parent_pos: int = -1,
            attach_pos: int = -1) -> None:  # fmt: skip
        start = int(tables.atom_ptr[config])
        size = int(tables.atom_ptr[config + 1]) - start
        index = []
        for p in range(size):
            if parent >= 0 and p == attach_pos:
                a = self.node_atoms[parent][parent_pos]
                self.atom_hs[a] -= int(tables.atom_degree[start + p])
            else:
                a = len(self.atom_type)
                self.atom_type.append(int(tables.atom_type[start + p]))
                hs = tables.atom_valence[start + p] - tables.atom_degree[start + p]
                self.atom_hs.append(int(hs))
                self.atom_attach.append(False)
            if tables.atom_attach[start + p]:
                self.atom_attach[a] = True
            index.append(a)
        for x, y, o in tables.bonds[tables.bond_ptr[config] : tables.bond_ptr[config + 1]]:
            self.bonds.append((index[x], index[y], int(o)))
        attachment = set(np.flatnonzero(tables.atom_attach[start : start + size]).tolist())
        if parent >= 0:
            self.open[parent].discard(parent_pos)
            attachment.discard(attach_pos)
        self.motif.append(int(tables.config_motif[config]))
        self.config.append(config)
        self.parent.append(parent)
        self.parent_pos.append(parent_pos)
        self.attach_pos.append(attach_pos)
        self.node_atoms.append(index)
        self.open.append(attachment)
        self.stack.append(len(self.motif) - 1)

    def neighbours(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.atom_type]
        for a, b, _ in self.bonds:
            out[a].append(b)
            out[b].append(a)
        return out

    def parent_candidates(self, tables: MotifTables) -> list[int]:
        """Positions of the top motif's attachment atoms a child may merge with: the open ones
        with hydrogens left if any, else every attachment atom with hydrogens left."""
        u = self.stack[-1]
        c = self.config[u]
        start = int(tables.atom_ptr[c])
        size = int(tables.atom_ptr[c + 1]) - start
        atoms = self.node_atoms[u]
        free = [p for p in range(size) if tables.atom_attach[start + p] and self.atom_hs[atoms[p]]]
        open_ = [p for p in free if p in self.open[u]]
        return open_ or free

    def tree(self, tables: MotifTables) -> MotifTree:
        children: list[list[int]] = [[] for _ in self.motif]
        for k, p in enumerate(self.parent):
            if p >= 0:
                children[p].append(k)
        nodes = tuple(
            MotifNode(
                smiles=tables.motifs[self.motif[k]],
                config=tables.flat_configs[self.config[k]],
                kind="",
                atoms=(),
                attachment=(),
                parent=self.parent[k],
                parent_atom=self.parent_pos[k],
                attach_atom=self.attach_pos[k],
                children=tuple(children[k]),
            )
            for k in range(len(self.motif))
        )
        return MotifTree(nodes=nodes, num_atoms=len(self.atom_type), atom_order=())


def _choose(scores: Tensor, temperature: float, generator: torch.Generator | None) -> int:
    """Argmax (temperature 0) or a draw from ``softmax(scores / temperature)``."""
    if temperature <= 0:
        return int(scores.argmax())
    probs = torch.softmax(scores.float().cpu() / temperature, dim=0)
    return int(torch.multinomial(probs, 1, generator=generator))


# -- the generator -------------------------------------------------------------------------------


class HierGenerator(Generator):
    """A trained :class:`HierVAE` with its motif vocabulary and the chemistry around it.

    Attributes:
        model: the network (in eval mode).
        tables: the motif vocabulary as arrays.
        graph_config: how SMILES become molecules.
    """

    kind = "hier"
    section = "hier"
    config_class = HierConfig
    decoding = "motif by motif"

    def __init__(self, model: HierVAE, tables: MotifTables, graph_config: GraphConfig, *,
                 batch_size: int = 250) -> None:  # fmt: skip
        super().__init__(model, graph_config, batch_size=batch_size)
        self.tables = tables

    @classmethod
    def build(cls, config: HierConfig, vocabulary: dict[str, Any],
              graph_config: GraphConfig) -> HierGenerator:  # fmt: skip
        tables = MotifTables.from_data(vocabulary["motifs"])
        return cls(build_hier(config, tables), tables, graph_config)

    def vocabulary(self) -> dict[str, Any]:
        return {"motifs": self.tables.to_data()}

    def _prepare(self, smiles: Sequence[str], jobs: int) -> list[Any]:
        return make_records(smiles, self.tables, self.graph_config, self.model.config, jobs=jobs)

    def _encode(self, records: list[Any]) -> tuple[Tensor, Tensor]:
        pack = RecordPack(records)
        batch = to_batch(pack, np.arange(len(pack)), self.tables).to(self.device)
        return self.model.encode(batch)

    def _decode(self, z: Tensor, temperature: float, generator: torch.Generator | None
                ) -> list[tuple[str | None, str | None]]:  # fmt: skip
        return [self._to_smiles(p) for p in self._decode_partials(z, temperature, generator)]

    def _to_smiles(self, partial: _Partial) -> tuple[str | None, str | None]:
        try:
            with quiet_rdkit():
                smiles = graph_to_smiles(tree_graph(partial.tree(self.tables), stereo=False))
        except InvalidMoleculeError:
            smiles = None
        return smiles, None if smiles is not None else "assembly"

    @torch.no_grad()
    def _decode_partials(self, z: Tensor, temperature: float, generator: torch.Generator | None
                         ) -> list[_Partial]:  # fmt: skip
        model, tables = self.model, self.tables
        dev = z.device
        n = z.shape[0]
        t = tables.num_atom_types
        edges = model.config.motif_edges
        radius = model.config.radius
        max_nodes = max(8, 2 * tables.max_motifs)
        parts = [_Partial() for _ in range(n)]

        # root: motif from z alone, then its configuration
        zeros = torch.zeros(n, model.config.hidden_dim, device=dev)
        motif_logits = model.motif_logits(z, zeros)
        motifs = [_choose(motif_logits[i], temperature, generator) for i in range(n)]
        configs = self._configs(z, zeros, motifs, [None] * n, temperature, generator)
        for part, c in zip(parts, configs, strict=True):
            part.add(tables, c)

        for _ in range(2 * max_nodes + 1):
            active = [i for i in range(n) if parts[i].stack]
            if not active:
                break
            # the decoder MotifMPN over every active partial tree
            node_rows, src, dst, dist, z_rows, top = [], [], [], [], [], []
            offset = 0
            for i in active:
                part = parts[i]
                k = len(part.motif)
                anc, desc, d = ancestry_edges(part.parent, edges)
                src.append(anc + offset)
                dst.append(desc + offset)
                dist.append(d)
                z_rows.append(np.full(k, i))
                top.append(offset + part.stack[-1])
                node_rows.append(np.arange(k))
                offset += k
            motif = torch.as_tensor(np.concatenate([parts[i].motif for i in active]), device=dev)
            config = torch.as_tensor(np.concatenate([parts[i].config for i in active]), device=dev)
            cat = lambda v: torch.as_tensor(np.concatenate(v), device=dev)  # noqa: E731
            h = model.tree_states(z[cat(z_rows)], motif, config, cat(src), cat(dst), cat(dist))
            z_act = z[torch.as_tensor(active, device=dev)]
            h_top = h[torch.as_tensor(top, device=dev)]
            p_stop = torch.sigmoid(model.stop_logits(z_act, h_top)).cpu()

            # pop or go on; what the child may be
            going, candidates, feasible = [], [], []
            for j, i in enumerate(active):
                part = parts[i]
                cand = part.parent_candidates(tables)
                ok = np.zeros(tables.num_configs, bool)
                if cand and len(part.motif) < max_nodes:
                    u = part.stack[-1]
                    for p in cand:
                        a = part.node_atoms[u][p]
                        ok |= tables.min_degree[:, part.atom_type[a]] <= part.atom_hs[a]
                if not ok.any():
                    go = False
                elif part.open[part.stack[-1]] & set(cand):
                    go = True  # an attachment atom is still open: it needs its child
                elif temperature > 0:
                    go = bool(torch.rand(1, generator=generator) >= p_stop[j])
                else:
                    go = bool(p_stop[j] < 0.5)
                if go:
                    going.append(j)
                    candidates.append(cand)
                    feasible.append(ok)
                else:
                    part.stack.pop()
            if not going:
                continue

            # child motif, then configuration, among the feasible ones
            rows = torch.as_tensor(going, device=dev)
            zg, hg = z_act[rows], h_top[rows]
            logits = model.motif_logits(zg, hg)
            motifs = []
            for r, ok in enumerate(feasible):
                motif_ok = np.logical_or.reduceat(ok, tables.motif_ptr[:-1])
                scores = logits[r].masked_fill(~torch.as_tensor(motif_ok, device=dev), -torch.inf)
                motifs.append(_choose(scores, temperature, generator))
            configs = self._configs(zg, hg, motifs, feasible, temperature, generator)

            # attachment pair: decoder AtomMPN over the partial molecules and the children
            xs, srcs, dsts, orders, pairs = [], [], [], [], []
            offset = 0
            for r, j in enumerate(going):
                part = parts[active[j]]
                u = part.stack[-1]
                seeds = [part.node_atoms[u][p] for p in candidates[r]]
                ball = partial_ball(part.neighbours(), seeds, len(part.atom_type), radius)
                local = {a: i for i, a in enumerate(ball)}
                m = len(ball)
                xs.append(atom_features(np.asarray(part.atom_type)[ball],
                                        np.asarray(part.atom_hs)[ball],
                                        np.asarray(part.atom_attach)[ball], t))  # fmt: skip
                inside = [(local[a], local[b], o) for a, b, o in part.bonds
                          if a in local and b in local]  # fmt: skip
                bond = np.asarray(inside, np.int64).reshape(-1, 3)
                srcs.append(bond[:, 0] + offset)
                dsts.append(bond[:, 1] + offset)
                orders.append(bond[:, 2])
                child_offset = offset + m
                graph = tables.config_graph(np.asarray([configs[r]]))
                xs.append(atom_features(graph["type"], graph["hs"], graph["attach"], t))
                srcs.append(graph["src"] + child_offset)
                dsts.append(graph["dst"] + child_offset)
                orders.append(graph["order"])
                start = int(tables.atom_ptr[configs[r]])
                options = []
                for p in candidates[r]:
                    a = part.node_atoms[u][p]
                    for bank in tables.child_candidates(configs[r]):
                        if (tables.atom_type[bank] == part.atom_type[a]
                                and tables.atom_degree[bank] <= part.atom_hs[a]):  # fmt: skip
                            options.append((r, offset + local[a], child_offset + bank - start,
                                            p, bank - start))  # fmt: skip
                pairs.append(options)
                offset = child_offset + len(graph["type"])
            h_atoms = model.atom_states(
                torch.as_tensor(np.concatenate(xs), device=dev), cat(srcs), cat(dsts), cat(orders)
            )
            flat = [o for options in pairs for o in options]
            index = torch.as_tensor([[o[0], o[1], o[2]] for o in flat], device=dev)
            scores = model.pair_scores(zg[index[:, 0]], hg[index[:, 0]], h_atoms[index[:, 1]],
                                       h_atoms[index[:, 2]])  # fmt: skip
            first = 0
            for r, j in enumerate(going):
                options = pairs[r]
                pick = options[_choose(scores[first : first + len(options)], temperature,
                                       generator)]  # fmt: skip
                first += len(options)
                part = parts[active[j]]
                part.add(tables, configs[r], part.stack[-1], pick[3], pick[4])
        return parts

    def _configs(self, z: Tensor, h: Tensor, motifs: list[int], feasible: list, temperature: float,
                 generator: torch.Generator | None) -> list[int]:  # fmt: skip
        """One configuration per row, among the motif's (and the feasible ones, when given)."""
        tables, dev = self.tables, z.device
        motif = np.asarray(motifs, np.int64)
        sizes = tables.motif_ptr[motif + 1] - tables.motif_ptr[motif]
        cand = ranges(tables.motif_ptr[motif], sizes)
        row = np.repeat(np.arange(len(motifs)), sizes)
        scores = self.model.config_scores(
            z,
            h,
            torch.as_tensor(motif, device=dev),
            torch.as_tensor(cand, device=dev),
            torch.as_tensor(row, device=dev),
        ).cpu()
        out, first = [], 0
        for r, size in enumerate(sizes.tolist()):
            s = scores[first : first + size]
            ids = cand[first : first + size]
            if feasible[r] is not None:
                s = s.masked_fill(~torch.as_tensor(feasible[r][ids]), -torch.inf)
            out.append(int(ids[_choose(s, temperature, generator)]))
            first += size
        return out
