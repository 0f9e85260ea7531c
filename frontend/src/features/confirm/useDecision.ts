import { useNavigate } from "react-router";
import { useCancel, useConfirm } from "../../api/queries";

/**
 * Confirm and Cancel of one import and where each leads: once confirmed, the monitoring page;
 * once cancelled, the cancelled screen (both replace the confirmation in the history).
 */
export function useDecision(importId: string) {
  const navigate = useNavigate();
  const confirm = useConfirm(importId);
  const cancel = useCancel(importId);
  return {
    confirm,
    cancel,
    busy: confirm.isPending || cancel.isPending,
    toMonitor: () => navigate(`/imports/${importId}`, { replace: true }),
    cancelImport: () =>
      cancel.mutate(undefined, { onSuccess: () => navigate(`/imports/${importId}/cancelled`, { replace: true }) }),
  };
}
