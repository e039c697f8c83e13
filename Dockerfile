# Build: queries are checked against the committed .sqlx data, so no database is needed here.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY . .
RUN cargo build --release --locked && strip target/release/yishi

# Run: a small image with the one binary (templates, migrations and CSS are compiled in).
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home yishi
COPY --from=build /src/target/release/yishi /usr/local/bin/yishi
USER yishi
ENV YISHI_BIND=0.0.0.0:8080 YISHI_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["yishi"]
