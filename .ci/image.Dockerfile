# Berth's image: one static binary and the CA roots, nothing else. Built by .ci/image.
FROM scratch
COPY berth /berth
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# The data folder belongs to the documented non-root user.
COPY --chown=65532:65532 data /data
USER 65532:65532
ENV BERTH_DATA_DIR=/data \
    BERTH_LISTEN=0.0.0.0:5000 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 5000
VOLUME ["/data"]
ENTRYPOINT ["/berth"]
CMD ["serve"]
