# Airflow 3 with Warta installed, for docker-compose.yml. dags/ and seeds/ are mounted, not copied.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root pyproject.toml README.md /opt/warta/
COPY --chown=airflow:root pipeline /opt/warta/pipeline
# The image pins Airflow and its dependencies; only Warta and what Airflow lacks are added.
RUN pip install --no-cache-dir /opt/warta
