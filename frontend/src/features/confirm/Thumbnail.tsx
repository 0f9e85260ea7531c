import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { authHeaders, type SeriesOut } from "../../api/client";
import { keys } from "../../api/queries";

/**
 * A series thumbnail. `<img src>` cannot send the Authorization header, so the PNG is fetched and
 * shown from an object URL; a 404 (none for this series, not rendered yet) shows a placeholder.
 * With `onOpen`, a thumbnail shown is a button opening the series (it is given the button, to
 * return the focus to).
 */
export function Thumbnail({
  importId,
  studyUid,
  series,
  onOpen,
}: {
  importId: string;
  studyUid: string;
  series: SeriesOut;
  onOpen?: (opener: HTMLButtonElement) => void;
}) {
  const { t } = useTranslation();
  const query = useQuery({
    queryKey: keys.thumbnail(importId, studyUid, series.series_instance_uid),
    enabled: series.thumbnail,
    staleTime: Infinity,
    retry: false,
    // an object URL made once per series and kept while the page lives (thumbnails are small)
    queryFn: async (): Promise<string | null> => {
      const url = `/api/v1/imports/${encodeURIComponent(importId)}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(series.series_instance_uid)}/thumbnail`;
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) return null;
      return URL.createObjectURL(await response.blob());
    },
    gcTime: Infinity,
  });
  const src = query.data ?? null;
  const label = t("confirm.study.seriesLabel", {
    number: series.number ?? "–",
    description: series.description || t("confirm.study.noDescription"),
    modality: series.modality || "?",
    count: series.instance_count,
  });
  return (
    <figure className="thumb">
      {src && onOpen ? (
        <button
          type="button"
          className="thumb-open"
          aria-label={t("temporary.viewer.open", { label })}
          onClick={(event) => onOpen(event.currentTarget)}
        >
          <img src={src} alt="" width={96} height={96} />
        </button>
      ) : src ? (
        <img src={src} alt={label} width={96} height={96} />
      ) : (
        <div className="thumb-empty" aria-hidden="true">
          {t("confirm.study.noPreview")}
        </div>
      )}
      <figcaption>{label}</figcaption>
    </figure>
  );
}
