import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { Notice } from "../../components/Notice";

export function CancelledPage() {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="card">
      <h1 ref={heading} tabIndex={-1}>
        {t("cancelled.title")}
      </h1>
      <Notice tone="success">
        <p>{t("cancelled.body")}</p>
        <p>
          <strong>{t("cancelled.close")}</strong>
        </p>
      </Notice>
      <p>
        <Link to="/import">{t("cancelled.again")}</Link>
      </p>
    </section>
  );
}
