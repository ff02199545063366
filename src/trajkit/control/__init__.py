"""Model-side conditioning in torch: ATI motion patch, 3DTrajMaster pose embedding and injector."""
