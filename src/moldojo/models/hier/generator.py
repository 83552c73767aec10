"""The hierarchical motif VAE as a molecule generator: SMILES in, SMILES out.

Decoding runs all molecules of a batch together: each step is one pass of the decoder's networks
over every molecule still decoding, and every rule of what may come next (which motif is on top,
which of its attachment atoms are still open, hydrogens left on each atom, the candidate pairs)
is the molecule's :class:`~moldojo.models.hier.decoding.DecodeState`, the state machine that
teacher forcing replays (:func:`~moldojo.models.hier.records.tree_record`).
Every merge keeps valences, so decoded molecules are valid by construction; assembly is still
checked (:func:`~moldojo.chem.motifs.tree_graph`) and any failure counted.

A model without attachment configurations (``HierConfig.attachment_configs = False``) decodes
bare motifs (``DecodeState(tables, configs=False)``): no configuration is chosen, the pair is
chosen among every atom of the top motif and of the child motif, and the stop head decides alone
whenever a motif can still attach. It cannot decode from a scaffold (whose plan is made of
configurations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from rdkit import Chem
from torch import Tensor

from moldojo.chem import GraphConfig, graph_to_smiles, parse_smiles
from moldojo.chem.motifs import decompose, tree_graph
from moldojo.chem.scaffold import parse_scaffold
from moldojo.chem.smiles import quiet_rdkit
from moldojo.data.features import ranges
from moldojo.errors import InvalidMoleculeError, InvalidSmilesError, ScaffoldError
from moldojo.models.generator import Generator
from moldojo.models.hier.config import HierConfig
from moldojo.models.hier.decoding import DecodeState
from moldojo.models.hier.network import HierBatch, HierVAE
from moldojo.models.hier.records import RecordPack, ancestry_edges, atom_features, tree_record
from moldojo.models.hier.scaffold import ScaffoldCursor, ScaffoldPlan, scaffold_plan
from moldojo.models.hier.tables import MotifTables
from moldojo.models.vae import tempered_softmax
from moldojo.parallel import pmap

__all__ = ["HierGenerator", "build_hier", "make_records", "record_of", "to_batch"]


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

# What _record reads in each worker: tables, graph config, edge kind, radius, whether the
# model has attachment configurations. Set only by
# _set_worker_state, the pool's initializer (see moldojo.parallel), so that it works under spawn.
_WORKER: dict[str, Any] = {}
_CHUNK = 200  # molecules per worker task


def _set_worker_state(
    tables: MotifTables, graph_config: GraphConfig, edges: str, radius: int, configs: bool = True
) -> None:
    _WORKER.update(tables=tables, graph=graph_config, edges=edges, radius=radius, configs=configs)


def _record(smiles: str) -> dict[str, np.ndarray] | str:
    """One molecule's record in a worker of :func:`make_records`."""
    return record_of(smiles, _WORKER["tables"], _WORKER["graph"], _WORKER["edges"],
                     _WORKER["radius"], _WORKER["configs"])  # fmt: skip


def record_of(
    smiles: str,
    tables: MotifTables,
    graph_config: GraphConfig,
    edges: str,
    radius: int,
    configs: bool = True,
) -> dict[str, np.ndarray] | str:
    """One molecule's record (canonical tree; ``configs=False``: for a model without attachment
    configurations), or the reason it has none: ``"invalid_input"`` or ``"unknown_motif"``."""
    try:
        mol = parse_smiles(smiles, graph_config)
        mol = Chem.MolFromSmiles(Chem.MolToSmiles(mol))  # canonical atom order: canonical tree
        tree = decompose(mol, tables)
    except (InvalidSmilesError, InvalidMoleculeError):
        return "invalid_input"
    if tree.unknown:
        return "unknown_motif"
    record = tree_record(tree, tables, edges, radius, configs)
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
    if not config.attachment_configs:
        tables.motif_graphs  # noqa: B018 -- built once here, not in every worker
    state = (tables, graph_config, config.motif_edges, config.radius, config.attachment_configs)
    return pmap(_record, list(smiles), jobs=jobs, chunk_size=_CHUNK, initializer=_set_worker_state,
                initargs=state, description="motif trees", progress=progress)  # fmt: skip


def to_batch(pack: RecordPack, indices: np.ndarray, tables: MotifTables,
             configs: bool = True) -> HierBatch:  # fmt: skip
    """The batch of molecules ``indices`` of ``pack``: collated records, atom features, the
    configuration candidates of every motif to predict and the decoder's atom graph (partial
    molecules, then the child configurations' graphs). ``configs=False`` (records of a model
    without attachment configurations): no configuration candidates, and the children's bare
    motif graphs."""
    a = pack.collate(indices)
    t = tables.num_atom_types
    root = np.flatnonzero(a["parent"] < 0)
    target = np.concatenate([root, a["ce_child"]])
    motif = a["motif_id"][target]
    sizes = tables.motif_ptr[motif + 1] - tables.motif_ptr[motif]
    # decoder atom graph: partial molecules, then the configuration graphs of the children
    pm = a["pm_atom"]
    x_pm = atom_features(a["atom_type"][pm], a["pm_hs"], a["atom_attach"][pm], t)
    if configs:
        graph = tables.config_graph(np.unique(a["config_id"][a["ce_child"]]))
        config_candidates = ranges(tables.motif_ptr[motif], sizes)
        config_row = np.repeat(np.arange(len(target)), sizes)
    else:
        graph = tables.motif_graph(np.unique(a["motif_id"][a["ce_child"]]))
        config_candidates = config_row = np.zeros(0, np.int64)
    x_cfg = atom_features(graph["type"], graph["hs"], graph["attach"], t)
    shift = len(pm)

    def tensor(values: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(values))

    return HierBatch(
        num_molecules=len(indices),
        atom_x=tensor(atom_features(a["atom_type"], a["atom_hs"], a["atom_attach"], t)),
        bond_src=tensor(a["bond_src"]),
        bond_dst=tensor(a["bond_dst"]),
        bond_order=tensor(a["bond_order"]),
        motif_id=tensor(a["motif_id"]),
        config_id=tensor(a["config_id"]),
        motif_id_mol=tensor(a["motif_id_mol"]),
        root=tensor(root),
        edge_src=tensor(a["edge_src"]),
        edge_dst=tensor(a["edge_dst"]),
        edge_dist=tensor(a["edge_dist"]),
        member_node=tensor(a["member_node"]),
        member_atom=tensor(a["member_atom"]),
        pt_node=tensor(a["pt_node"]),
        pt_node_mol=tensor(a["pt_node_mol"]),
        pt_src=tensor(a["pt_src"]),
        pt_dst=tensor(a["pt_dst"]),
        pt_dist=tensor(a["pt_dist"]),
        ev_top=tensor(a["ev_top"]),
        ev_pop=tensor(a["ev_pop"]),
        ce_top=tensor(a["ce_top"]),
        ce_top_mol=tensor(a["ce_top_mol"]),
        ce_child=tensor(a["ce_child"]),
        config_candidates=tensor(config_candidates),
        config_row=tensor(config_row),
        dec_x=tensor(np.concatenate([x_pm, x_cfg])),
        dec_src=tensor(np.concatenate([a["pm_src"], graph["src"] + shift])),
        dec_dst=tensor(np.concatenate([a["pm_dst"], graph["dst"] + shift])),
        dec_order=tensor(np.concatenate([a["pm_order"], graph["order"]])),
        pair_event=tensor(a["pair_event"]),
        pair_parent=tensor(a["pair_parent"]),
        pair_child_row=tensor(shift + np.searchsorted(graph["atom"], a["pair_child"])),
        pair_label=tensor(a["pair_label"]),
    )


# -- decoding ------------------------------------------------------------------------------------


def _choose(scores: Tensor, temperature: float, generator: torch.Generator | None) -> int:
    """Argmax (temperature 0) or a draw from ``softmax(scores / temperature)``."""
    if temperature <= 0:
        return int(scores.argmax())
    probs = tempered_softmax(scores.float().cpu(), temperature, dim=0)
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
        configs = self.model.config.attachment_configs
        batch = to_batch(pack, np.arange(len(pack)), self.tables, configs).to(self.device)
        return self.model.encode(batch)

    def _decode(self, z: Tensor, temperature: float, generator: torch.Generator | None,
                scaffold: ScaffoldPlan | None = None
                ) -> list[tuple[str | None, str | None]]:  # fmt: skip
        states = self._decode_partials(z, temperature, generator, scaffold)
        return [self._to_smiles(p) for p in states]

    def _scaffold_plan(self, scaffold: str) -> ScaffoldPlan:
        if not self.model.config.attachment_configs:
            raise ScaffoldError("this hier model has no attachment configurations "
                                "(hier.attachment_configs = false), which a scaffold's plan is "
                                "made of; use a model trained with them")  # fmt: skip
        return scaffold_plan(parse_scaffold(scaffold, self.graph_config), self.tables)

    def _to_smiles(self, state: DecodeState) -> tuple[str | None, str | None]:
        try:
            with quiet_rdkit():
                smiles = graph_to_smiles(tree_graph(state.tree(), stereo=False))
        except InvalidMoleculeError:
            smiles = None
        return smiles, None if smiles is not None else "assembly"

    @torch.no_grad()
    def _decode_partials(self, z: Tensor, temperature: float, generator: torch.Generator | None,
                         scaffold: ScaffoldPlan | None = None) -> list[DecodeState]:  # fmt: skip
        """Decode ``z [B, latent_dim]`` motif by motif, every molecule's choices made on its
        :class:`~moldojo.models.hier.decoding.DecodeState` (the one teacher forcing replays);
        with a ``scaffold``, its motifs are placed first (:mod:`~moldojo.models.hier.scaffold`).
        """
        model, tables = self.model, self.tables
        dev = z.device
        n = z.shape[0]
        t = tables.num_atom_types
        edges = model.config.motif_edges
        radius = model.config.radius
        with_configs = model.config.attachment_configs  # else nodes are bare motifs
        max_nodes = max(8, 2 * tables.max_motifs) + (len(scaffold.nodes) if scaffold else 0)
        states = [DecodeState(tables, with_configs) for _ in range(n)]
        cursors = [ScaffoldCursor(scaffold) for _ in range(n)] if scaffold else None

        # root: motif from z alone (the scaffold's root motif), then its configuration
        zeros = torch.zeros(n, model.config.hidden_dim, device=dev)
        if scaffold is None:
            motif_logits = model.motif_logits(z, zeros)
            motifs = [_choose(motif_logits[i], temperature, generator) for i in range(n)]
            allowed = [None] * n
        else:
            motifs, allowed = [scaffold.nodes[0].motif] * n, [scaffold.masks[0]] * n
        if with_configs:
            configs = self._configs(z, zeros, motifs, allowed, temperature, generator)
        else:
            configs = motifs
        for i, (state, c) in enumerate(zip(states, configs, strict=True)):
            state.add_root(c)
            if cursors:
                cursors[i].placed(0, 0, c)

        for _ in range(2 * max_nodes + 1):
            active = [i for i in range(n) if states[i].stack]
            if not active:
                break
            # the decoder MotifMPN over every active partial tree
            src, dst, dist, z_rows, top = [], [], [], [], []
            offset = 0
            for i in active:
                state = states[i]
                k = len(state.motif)
                anc, desc, d = ancestry_edges(state.parent, edges)
                src.append(anc + offset)
                dst.append(desc + offset)
                dist.append(d)
                z_rows.append(np.full(k, i))
                top.append(offset + state.top)
                offset += k
            motif = torch.as_tensor(np.concatenate([states[i].motif for i in active]), device=dev)
            config = torch.as_tensor(np.concatenate([states[i].config for i in active]),
                                     device=dev) if with_configs else None  # fmt: skip
            cat = lambda v: torch.as_tensor(np.concatenate(v), device=dev)  # noqa: E731
            top_rows = torch.as_tensor(top, device=dev)  # the network computes only what they read
            h_top = model.tree_states(z[cat(z_rows)], motif, config, cat(src), cat(dst),
                                      cat(dist), targets=top_rows)  # fmt: skip
            z_act = z[torch.as_tensor(active, device=dev)]
            p_stop = torch.sigmoid(model.stop_logits(z_act, h_top)).cpu()

            # pop or go on; what the child may be
            going, candidates, feasible, forced = [], [], [], []
            for j, i in enumerate(active):
                state = states[i]
                scaffold_child = cursors[i].next_child(state.top) if cursors else None
                if scaffold_child is not None:  # the scaffold's children come first
                    going.append(j)
                    candidates.append(None)
                    feasible.append(scaffold.masks[scaffold_child])
                    forced.append(scaffold_child)
                    continue
                cand = state.parent_candidates()
                if cand and len(state.motif) < max_nodes:
                    ok = state.feasible(cand)
                else:
                    ok = np.zeros(tables.num_configs if with_configs else tables.num_motifs,
                                  bool)  # fmt: skip
                if not ok.any():
                    go = False
                elif state.needs_child():
                    go = True
                elif temperature > 0:
                    go = bool(torch.rand(1, generator=generator) >= p_stop[j])
                else:
                    go = bool(p_stop[j] < 0.5)
                if go:
                    going.append(j)
                    candidates.append(cand)
                    feasible.append(ok)
                    forced.append(None)
                else:
                    state.pop()
            if not going:
                continue

            # child motif, then configuration, among the feasible ones
            rows = torch.as_tensor(going, device=dev)
            zg, hg = z_act[rows], h_top[rows]
            logits = model.motif_logits(zg, hg)
            motifs = []
            for r, ok in enumerate(feasible):
                if forced[r] is not None:
                    motifs.append(scaffold.nodes[forced[r]].motif)
                    continue
                # ok is per configuration, or per motif already without configurations
                motif_ok = np.logical_or.reduceat(ok, tables.motif_ptr[:-1]) if with_configs else ok
                scores = logits[r].masked_fill(~torch.as_tensor(motif_ok, device=dev), -torch.inf)
                motifs.append(_choose(scores, temperature, generator))
            if with_configs:
                configs = self._configs(zg, hg, motifs, feasible, temperature, generator)
            else:
                configs = motifs

            # a scaffold child merges at its mapped positions
            for r, j in enumerate(going):
                if forced[r] is not None:
                    i = active[j]
                    top = states[i].top
                    parent_pos, attach_pos = cursors[i].merge(top, forced[r], configs[r])
                    node = states[i].add_child(configs[r], parent_pos, attach_pos)
                    cursors[i].placed(node, forced[r], configs[r])
            free = [r for r in range(len(going)) if forced[r] is None]
            if not free:
                continue

            # attachment pair: decoder AtomMPN over the partial molecules' balls and the children
            xs, srcs, dsts, orders, pairs = [], [], [], [], []
            offset = 0
            for r in free:
                state = states[active[going[r]]]
                ball = state.ball(candidates[r], radius)
                xs.append(atom_features(np.asarray(state.atom_type)[ball.atoms],
                                        np.asarray(state.atom_hs)[ball.atoms],
                                        np.asarray(state.atom_attach)[ball.atoms], t))  # fmt: skip
                bond = np.asarray(ball.bonds, np.int64).reshape(-1, 3)
                srcs.append(bond[:, 0] + offset)
                dsts.append(bond[:, 1] + offset)
                orders.append(bond[:, 2])
                child_offset = offset + len(ball.atoms)
                part = np.asarray([configs[r]])
                graph = tables.config_graph(part) if with_configs else tables.motif_graph(part)
                xs.append(atom_features(graph["type"], graph["hs"], graph["attach"], t))
                srcs.append(graph["src"] + child_offset)
                dsts.append(graph["dst"] + child_offset)
                orders.append(graph["order"])
                atoms, local = state.node_atoms[state.top], ball.local
                options = state.pair_options(configs[r], candidates[r])
                pairs.append([(r, offset + local[atoms[p]], child_offset + q, p, q)
                              for p, q in options])  # fmt: skip
                offset = child_offset + len(graph["type"])
            h_atoms = model.atom_states(
                torch.as_tensor(np.concatenate(xs), device=dev), cat(srcs), cat(dsts), cat(orders)
            )
            flat = [o for options in pairs for o in options]
            index = torch.as_tensor([[o[0], o[1], o[2]] for o in flat], device=dev)
            scores = model.pair_scores(zg[index[:, 0]], hg[index[:, 0]], h_atoms[index[:, 1]],
                                       h_atoms[index[:, 2]])  # fmt: skip
            first = 0
            for options in pairs:
                pick = options[_choose(scores[first : first + len(options)], temperature,
                                       generator)]  # fmt: skip
                first += len(options)
                r = options[0][0]
                states[active[going[r]]].add_child(configs[r], pick[3], pick[4])
        return states

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
