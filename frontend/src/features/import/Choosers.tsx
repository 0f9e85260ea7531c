import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { carriesFiles, fromDrop, fromFileInput, fromFolderInput, type Dropped } from "../../media/collect";
import type { MediaFile } from "../../media/types";

type Choose = (files: MediaFile[], label: string) => void;

/** Tab "CD or folder": the folder picker (`webkitdirectory`). */
export function FolderChooser({ onChoose, disabled }: { onChoose: Choose; disabled: boolean }) {
  const { t } = useTranslation();
  const input = useRef<HTMLInputElement>(null);
  const [folder, setFolder] = useState("");
  useEffect(() => {
    input.current?.setAttribute("webkitdirectory", "");
    input.current?.setAttribute("directory", "");
  }, []);
  return (
    <div className="chooser">
      <p>{t("folder.intro")}</p>
      <label className={`button button-primary file-button${disabled ? " is-disabled" : ""}`}>
        <input
          ref={input}
          type="file"
          multiple
          className="visually-hidden"
          data-testid="folder-input"
          disabled={disabled}
          onChange={(e) => {
            const list = e.target.files;
            // an empty folder gives no file at all: said so, not silently ignored
            const { folder: name, files } = fromFolderInput(list ?? []);
            setFolder(name);
            onChoose(files, name);
            e.target.value = "";
          }}
        />
        {t("folder.choose")}
      </label>
      {folder ? <p className="chosen">{t("folder.chosen", { name: folder })}</p> : null}
    </div>
  );
}

/**
 * Files and folders dropped anywhere on the import screen (either tab): read as a chosen folder
 * or chosen files. The page never opens a dropped file itself. True while files are dragged over
 * the screen.
 */
export function useScreenDrop(onDrop: (dropped: Dropped) => void, disabled: boolean): boolean {
  const [dragging, setDragging] = useState(false);
  const handler = useRef(onDrop);
  useEffect(() => {
    handler.current = onDrop;
  }, [onDrop]);
  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!carriesFiles(e.dataTransfer)) return;
      depth += 1;
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (!carriesFiles(e.dataTransfer)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => {
      if (!carriesFiles(e.dataTransfer)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = disabled ? "none" : "copy";
    };
    const drop = (e: DragEvent) => {
      if (!carriesFiles(e.dataTransfer)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      if (disabled || !e.dataTransfer) return;
      void fromDrop(e.dataTransfer).then((dropped) => handler.current(dropped));
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragleave", leave);
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [disabled]);
  return dragging && !disabled;
}

/**
 * Tab "Files": drag and drop of files and folders (the drop itself is taken by `useScreenDrop`,
 * anywhere on the screen), or a plain file input for the keyboard.
 */
export function FilesChooser({ onChoose, disabled }: { onChoose: Choose; disabled: boolean }) {
  const { t } = useTranslation();
  const [over, setOver] = useState(false);
  return (
    <div className="chooser">
      <p>{t("files.intro")}</p>
      <div
        className={`dropzone${over ? " is-over" : ""}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          if (!disabled) setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={() => setOver(false)}
      >
        <span className="dropzone-text">{over ? t("files.dropActive") : t("files.drop")}</span>
        <label className={`button button-secondary file-button${disabled ? " is-disabled" : ""}`}>
          <input
            type="file"
            multiple
            className="visually-hidden"
            disabled={disabled}
            onChange={(e) => {
              const list = e.target.files;
              if (!list || list.length === 0) return;
              const files = fromFileInput(list);
              onChoose(files, files.length === 1 ? files[0]!.path : `${files.length}`);
              e.target.value = "";
            }}
          />
          {t("files.choose")}
        </label>
      </div>
    </div>
  );
}

type TabId = "folder" | "files";

/** Accessible tabs (WAI-ARIA pattern): arrows move between tabs, Tab goes into the panel. */
export function MethodTabs({ folder, files }: { folder: React.ReactNode; files: React.ReactNode }) {
  const { t } = useTranslation();
  const [tab, setTab] = useState<TabId>("folder");
  const ids: TabId[] = ["folder", "files"];
  const refs = useRef<Record<TabId, HTMLButtonElement | null>>({ folder: null, files: null });
  const onKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft" && e.key !== "Home" && e.key !== "End") return;
    e.preventDefault();
    const index = ids.indexOf(tab);
    const next =
      e.key === "Home" ? 0 : e.key === "End" ? ids.length - 1 : (index + (e.key === "ArrowRight" ? 1 : -1) + ids.length) % ids.length;
    const id = ids[next]!;
    setTab(id);
    refs.current[id]?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={t("tabs.label")} className="tablist">
        {ids.map((id) => (
          <button
            key={id}
            ref={(el) => {
              refs.current[id] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            className="tab"
            onClick={() => setTab(id)}
            onKeyDown={onKey}
          >
            {t(`tabs.${id}`)}
          </button>
        ))}
      </div>
      {ids.map((id) => (
        <div
          key={id}
          role="tabpanel"
          id={`panel-${id}`}
          aria-labelledby={`tab-${id}`}
          hidden={tab !== id}
          className="tabpanel"
        >
          {id === "folder" ? folder : files}
        </div>
      ))}
    </div>
  );
}
