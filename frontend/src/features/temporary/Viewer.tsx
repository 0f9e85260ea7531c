/**
 * A simple viewer of one series kept in the temporary zone: one image at a time, in Instance
 * Number order (rendered by the server, `…/instances/{position}/image`). Previous and next by the
 * buttons, the left and right arrow keys (Home and End: first and last) or the slider; Escape or
 * Close closes it and the focus goes back to the thumbnail that opened it.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { authHeaders, toApiError, type SeriesOut } from "../../api/client";
import { keys } from "../../api/queries";
import { ApiErrorNotice } from "../../components/ApiErrorNotice";

type Where = { importId: string; studyUid: string; seriesUid: string };

function imageQuery({ importId, studyUid, seriesUid }: Where, position: number) {
  const url = [
    "/api/v1/imports",
    encodeURIComponent(importId),
    "studies",
    encodeURIComponent(studyUid),
    "series",
    encodeURIComponent(seriesUid),
    "instances",
    String(position),
    "image",
  ].join("/");
  return {
    queryKey: keys.instanceImage(importId, studyUid, seriesUid, position),
    // `<img src>` cannot send the Authorization header: the PNG is fetched, shown from a blob
    queryFn: async (): Promise<Blob> => {
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) throw toApiError(response.status, await response.json().catch(() => null));
      return response.blob();
    },
    staleTime: Infinity,
    retry: false,
  };
}

/** An image from a blob: its object URL lives as long as the image shows it. */
function BlobImage({ blob, alt }: { blob: Blob; alt: string }) {
  const image = useRef<HTMLImageElement>(null);
  useEffect(() => {
    const url = URL.createObjectURL(blob);
    if (image.current) image.current.src = url;
    return () => URL.revokeObjectURL(url);
  }, [blob]);
  return <img ref={image} alt={alt} />;
}

export function Viewer({
  importId,
  studyUid,
  series,
  onClose,
}: {
  importId: string;
  studyUid: string;
  series: SeriesOut;
  /** Called once the viewer closed (Escape, Close): the caller takes the focus back. */
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const hintId = useId();
  const client = useQueryClient();
  const count = Math.max(1, series.instance_count);
  const [position, setPosition] = useState(1);
  const where = { importId, studyUid, seriesUid: series.series_instance_uid };
  const image = useQuery(imageQuery(where, position));
  const label = t("confirm.study.seriesLabel", {
    number: series.number ?? "–",
    description: series.description || t("confirm.study.noDescription"),
    modality: series.modality || "?",
    count: series.instance_count,
  });

  useEffect(() => {
    const node = dialog.current;
    if (node && !node.open) node.showModal();
  }, []);
  // the next image is fetched while this one is looked at
  useEffect(() => {
    if (position < count) void client.prefetchQuery(imageQuery(where, position + 1));
    // `where` is rebuilt on each render; its parts are the dependencies
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, importId, studyUid, series.series_instance_uid, position, count]);

  const go = (to: number) => setPosition(Math.min(count, Math.max(1, to)));
  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.target instanceof HTMLInputElement) return; // the slider moves by itself
    const to = { ArrowRight: position + 1, ArrowLeft: position - 1, Home: 1, End: count }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    go(to);
  };
  const positionText = t("temporary.viewer.position", { position, count });

  return (
    <dialog ref={dialog} className="viewer" aria-labelledby={titleId} aria-describedby={hintId} onClose={onClose} onKeyDown={onKeyDown}>
      <div className="viewer-head">
        <h2 id={titleId}>{t("temporary.viewer.title", { label })}</h2>
        <button type="button" className="button" onClick={() => dialog.current?.close()}>
          {t("temporary.viewer.close")}
        </button>
      </div>
      <p id={hintId} className="hint">
        {t("temporary.viewer.keys")}
      </p>
      <div className="viewer-image">
        {image.data ? (
          <BlobImage blob={image.data} alt={t("temporary.viewer.image", { position, count, label })} />
        ) : image.isPending ? (
          <p role="status">{t("temporary.viewer.loading")}</p>
        ) : null}
      </div>
      <ApiErrorNotice error={image.error} />
      <div className="viewer-controls">
        <button type="button" className="button" disabled={position <= 1} onClick={() => go(position - 1)}>
          <span aria-hidden="true">← </span>
          {t("temporary.viewer.previous")}
        </button>
        {count > 1 ? (
          <input
            type="range"
            min={1}
            max={count}
            value={position}
            aria-label={t("temporary.viewer.slider")}
            aria-valuetext={positionText}
            onChange={(event) => go(Number(event.target.value))}
          />
        ) : null}
        <button type="button" className="button" disabled={position >= count} onClick={() => go(position + 1)}>
          {t("temporary.viewer.next")}
          <span aria-hidden="true"> →</span>
        </button>
        <p className="viewer-position" role="status" aria-live="polite">
          {positionText}
        </p>
      </div>
    </dialog>
  );
}
