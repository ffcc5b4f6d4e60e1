"""The CRM contract on the writer lock, the maintenance log and the sync checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.records.members import MemberRef
from cmsf_core.domain.records.sync_state import Checkpoint
from cmsf_core.domain.status import RefreshCause
from cmsf_core.testing._support import ANN, BOB, CAMPAIGN, CLIENT, OTHER_CLIENT, T0, _skip
from cmsf_core.testing.crm_contract._base import CrmContractBase, _check, _refused


class _LockProbeError(Exception):
    """Raised inside a sync lock by the contract, to see the lock released after it."""


class CheckpointContract(CrmContractBase):
    """The contract on the writer lock, the maintenance messages and the checkpoints."""

    # -- the writer lock -----------------------------------------------------------------

    def test_the_sync_lock_is_released_when_the_sync_ends(self) -> None:
        """sync_lock (when the store has one) can be taken again once released, also after
        an error inside it, and writes made under it are kept."""
        crm = self.make_crm()
        lock = getattr(crm, "sync_lock", None)
        if lock is None:
            _skip(f"{type(crm).__name__} has no sync_lock(): run_sync takes no lock for it")
        at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        message = MaintenanceMessage("SYNC-INSERT-RECORD", "Error", "record 1", "refused", at)
        with lock(wait=1.0):
            _check(crm.add_messages([message]))
        try:
            with lock(wait=1.0):
                raise _LockProbeError
        except _LockProbeError:
            pass
        with lock(wait=1.0, dry_run=True):
            assert tuple(crm.messages()) == (message,)

    # -- checkpoints ---------------------------------------------------------------------

    def test_maintenance_messages_are_kept_in_order(self) -> None:
        """add_messages appends to the log; messages() returns it oldest first."""
        crm = self.make_crm()
        at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        first = MaintenanceMessage("SYNC-INSERT-RECORD", "Error", "record 1", "refused", at)
        second = MaintenanceMessage("SYNC-SAVE-MEMBER", "Warning", None, "", at)
        result = crm.add_messages([first, second])
        assert result.written == 2
        assert result.ok
        assert tuple(crm.messages()) == (first, second)

    def test_checkpoint_of_an_unknown_client_is_empty(self) -> None:
        """A client never synced has a checkpoint with no watermark and nothing pending."""
        crm = self.make_crm()

        assert crm.checkpoint(CLIENT) == Checkpoint(CLIENT)

    def test_checkpoints_round_trip(self) -> None:
        """A saved checkpoint (watermark and pending refreshes) is read back as saved."""
        crm = self.make_crm()
        pending = {
            (MemberRef(CAMPAIGN, ANN), RefreshCause.IMPORT),
            (MemberRef(CAMPAIGN, BOB), RefreshCause.DELETION),
        }
        journal = Checkpoint(CLIENT, T0, pending)

        _check(crm.save_checkpoints([journal]))

        assert crm.checkpoint(CLIENT) == journal

    def test_a_journal_then_the_advanced_checkpoint_replaces_the_pending_refreshes(self) -> None:
        """The journal (same watermark, pending) then the advanced checkpoint (nothing
        pending): the later save wins, pending refreshes included."""
        crm = self.make_crm()
        _check(crm.save_checkpoints([Checkpoint(CLIENT, T0)]))
        journal = Checkpoint(CLIENT, T0, {(MemberRef(CAMPAIGN, ANN), RefreshCause.IMPORT)})
        advanced = Checkpoint(CLIENT, T0 + timedelta(hours=1))

        _check(crm.save_checkpoints([journal]))
        assert crm.checkpoint(CLIENT) == journal
        _check(crm.save_checkpoints([advanced]))

        assert crm.checkpoint(CLIENT) == advanced

    def test_checkpoints_are_kept_per_client(self) -> None:
        """Each client (an agency has several) has its own watermark."""
        crm = self.make_crm()
        first = Checkpoint(CLIENT, T0)
        second = Checkpoint(OTHER_CLIENT, T0 - timedelta(days=3))

        _check(crm.save_checkpoints([first, second]), written=2)

        assert crm.checkpoint(CLIENT) == first
        assert crm.checkpoint(OTHER_CLIENT) == second

    def test_a_watermark_never_goes_back(self) -> None:
        """Saving an earlier watermark is refused (an error or a reported failure) and the
        stored watermark stays where it was."""
        crm = self.make_crm()
        _check(crm.save_checkpoints([Checkpoint(CLIENT, T0)]))

        refused = _refused(
            lambda: crm.save_checkpoints([Checkpoint(CLIENT, T0 - timedelta(minutes=1))])
        )

        assert refused, "an earlier watermark was accepted without a failure"
        assert crm.checkpoint(CLIENT).watermark == T0
